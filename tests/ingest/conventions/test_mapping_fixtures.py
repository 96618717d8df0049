"""OpenInference's own GenAI <-> OpenInference fixture pairs map to the same content."""

import json

from tests.conftest import shared
from tests.ingest.conventions._helpers import roundtrip

WEATHER_INPUT = [
    {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]},
    {"role": "assistant", "parts": [
        {"type": "text", "content": "Absolutely! Let me check the weather for you."},
        {"type": "tool_call", "id": "1234", "name": "get_weather",
         "arguments": {"location": "Paris"}}]},
    {"role": "tool", "parts": [
        {"type": "tool_call_response", "id": "1234", "response": "rainy, 57°F"}]},
]


def _fixture(name: str) -> dict:
    return json.loads(shared("openinference_fixtures", "genai_mapping", name).read_text())


def _messages(span) -> list[dict]:
    return [m.model_dump(exclude_none=True) for m in span.detail.input_messages]


def test_genai_client_span() -> None:
    attrs = _fixture("otel_genai_client_span_tool_calls.json")
    span = roundtrip(attrs)
    assert span.kind == "llm" and span.convention == "genai"
    d = span.detail
    assert _messages(span) == WEATHER_INPUT
    assert d.output_messages[0].parts[0].content.startswith("The weather in Paris")
    assert d.output_messages[0].finish_reason == "stop"
    assert (d.provider, d.request_model, d.response_model) == ("openai", "gpt-4", "gpt-4-0613")
    assert d.parameters == {"max_tokens": 200, "temperature": 0.5, "top_p": 0.9}
    assert (d.usage.input_tokens, d.usage.output_tokens) == (97, 52)
    assert d.finish_reasons == ["stop"]
    assert span.attributes["gen_ai.input.messages"] == attrs["gen_ai.input.messages"]


def test_openinference_client_span_gives_the_same_messages() -> None:
    attrs = _fixture("openinference_client_span_tool_calls.json")
    span = roundtrip(attrs)
    assert span.kind == "llm" and span.convention == "openinference"
    assert _messages(span) == WEATHER_INPUT
    assert span.detail.request_model == "gpt-4"  # from llm.invocation_parameters
    assert span.detail.response_model == "gpt-4-0613"
    assert span.detail.parameters["temperature"] == 0.5
    assert (span.detail.usage.input_tokens, span.detail.usage.total_tokens) == (97, 149)
    assert span.attributes == attrs  # originals rebuilt exactly


def test_openinference_input_value_only_span() -> None:
    span = roundtrip(_fixture("openinference_client_span_input_output_only.json"))
    assert _messages(span) == WEATHER_INPUT
    assert span.detail.output_messages[0].parts[0].content.startswith("The weather")


def test_deprecated_genai_prompt_and_completion() -> None:
    span = roundtrip(_fixture("otel_genai_deprecated_client_span_tool_calls.json"))
    assert _messages(span) == WEATHER_INPUT
    out = span.detail.output_messages[0]
    assert out.role == "assistant" and out.finish_reason == "stop"


def test_genai_tool_execution_span() -> None:
    span = roundtrip(_fixture("otel_genai_tool_execution_span.json"))
    d = span.detail
    assert span.kind == "tool"
    assert (d.name, d.call_id, d.type) == ("get_weather", "1234", "function")
    assert d.description.startswith("Retrieves the current weather")
