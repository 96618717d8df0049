"""Framework adapters. Each imports its framework lazily; install the framework to use it.

- ``tracevault.sdk.adapters.openai_agents.TracevaultProcessor``: OpenAI Agents SDK
- ``tracevault.sdk.adapters.langchain.TracevaultCallbackHandler``: LangChain / LangGraph
- ``tracevault.sdk.instrument_openai``: the plain ``openai`` client
"""
