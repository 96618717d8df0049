"""Instrumentation for agent harnesses: complete records with little code.

``configure()`` once, then record with a ``Recorder`` per agent (runs, steps, model calls,
tools, memory, messages between agents), the decorators for code with no loop
abstraction, or an adapter (the ``openai`` client, OpenAI Agents SDK, LangChain).
Spans are plain OpenTelemetry spans: they also flow to any other OTel backend.
"""

from ._config import configure, flush, get_tracer, shutdown
from ._decorators import agent_span, current_agent, step_span, traced_tool
from ._exporter import StoreSpanExporter
from ._hooks import ActionBlocked, AgentMessage, Budget, Hook, MemoryOp, ModelCall, Step, ToolCall
from ._propagation import (
    ContextThreadPoolExecutor,
    continue_trace,
    extract,
    inject,
    run_with_carrier,
    wrap,
)
from ._recorder import Recorder
from .openai import instrument_openai

__all__ = [
    "ActionBlocked",
    "AgentMessage",
    "Budget",
    "ContextThreadPoolExecutor",
    "Hook",
    "MemoryOp",
    "ModelCall",
    "Recorder",
    "Step",
    "StoreSpanExporter",
    "ToolCall",
    "agent_span",
    "configure",
    "continue_trace",
    "current_agent",
    "extract",
    "flush",
    "get_tracer",
    "inject",
    "instrument_openai",
    "run_with_carrier",
    "shutdown",
    "step_span",
    "traced_tool",
    "wrap",
]
