"""Each adapter, run with the real framework against the fake model server."""

import asyncio

import openai

from tracevault import sdk


def test_plain_openai_client_including_streaming(recorded, weather_model) -> None:
    client = sdk.instrument_openai(openai.OpenAI(base_url=weather_model.base_url,
                                                 api_key="x"), agent="bot")
    messages = [{"role": "user", "content": "weather in Paris?"}]
    first = client.chat.completions.create(model="m", messages=messages)
    call = first.choices[0].message.tool_calls[0]
    messages += [first.choices[0].message,
                 {"role": "tool", "tool_call_id": call.id, "content": "sunny"}]
    stream = client.chat.completions.create(model="m", messages=messages, stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "It is sunny in Paris."
    traces = recorded()
    llm = sorted((s for t in traces for s in t.spans if s.kind == "llm"),
                 key=lambda s: s.start_time_ns)
    assert len(llm) == 2
    assert [m.role for m in llm[1].detail.input_messages] == ["user", "assistant", "tool"]
    assert llm[1].detail.output_messages[0].parts[0].content == "It is sunny in Paris."
    assert llm[1].detail.finish_reasons == ["stop"]


def test_openai_agents_sdk(recorded, weather_model) -> None:
    from agents import (
        Agent,
        OpenAIChatCompletionsModel,
        Runner,
        function_tool,
        set_trace_processors,
    )

    from tracevault.sdk.adapters.openai_agents import TracevaultProcessor

    @function_tool
    def get_weather(city: str) -> str:
        """Weather of a city."""
        return f"sunny in {city}"

    set_trace_processors([TracevaultProcessor()])
    client = openai.AsyncOpenAI(base_url=weather_model.base_url, api_key="x")
    agent = Agent(name="weatherbot", instructions="Answer weather questions.",
                  tools=[get_weather],
                  model=OpenAIChatCompletionsModel(model="fake", openai_client=client))
    async def run():
        try:
            return await Runner.run(agent, "What is the weather in Paris?")
        finally:
            await client.close()

    result = asyncio.run(run())
    set_trace_processors([])
    assert result.final_output == "It is sunny in Paris."
    (trace,) = recorded()
    kinds = [s.kind for s in trace.spans]
    assert kinds.count("llm") == 2 and kinds.count("tool") == 1
    tool = next(s for s in trace.spans if s.kind == "tool")
    assert tool.detail.arguments == {"city": "Paris"} and tool.detail.result == "sunny in Paris"
    assert tool.agent.name == "weatherbot"
    last = max((s for s in trace.spans if s.kind == "llm"), key=lambda s: s.start_time_ns)
    assert [m.role for m in last.detail.input_messages] == ["system", "user", "assistant",
                                                            "tool"]
    assert any(s.harness and s.harness.step_index == 2 for s in trace.spans)


def test_langgraph_agent(recorded, weather_model) -> None:
    from langchain.agents import create_agent
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI

    from tracevault.sdk.adapters.langchain import TracevaultCallbackHandler

    @tool
    def get_weather(city: str) -> str:
        """Weather of a city."""
        return f"sunny in {city}"

    llm = ChatOpenAI(model="fake", base_url=weather_model.base_url, api_key="x")
    graph = create_agent(llm, [get_weather], system_prompt="Answer weather questions.")
    out = graph.invoke({"messages": [("user", "What is the weather in Paris?")]},
                       config={"callbacks": [TracevaultCallbackHandler(agent="weatherbot")]})
    assert out["messages"][-1].content == "It is sunny in Paris."
    (trace,) = recorded()
    assert trace.roots()[0].kind == "agent"
    llm_spans = sorted((s for s in trace.spans if s.kind == "llm"),
                       key=lambda s: s.start_time_ns)
    assert len(llm_spans) == 2 and llm_spans[0].detail.tool_definitions
    assert [m.role for m in llm_spans[1].detail.input_messages] == ["system", "user",
                                                                     "assistant", "tool"]
    tool_span = next(s for s in trace.spans if s.kind == "tool")
    assert tool_span.detail.result == "sunny in Paris"
    assert [s.harness.step_index for s in trace.spans if s.kind == "step"] == [1, 2, 3]
