"""Public test helpers: synthetic agent workloads as OTLP (more helpers join here)."""

from ._workload import Prose, RunSpec, agent_run, encode_request, workload_requests

__all__ = ["Prose", "RunSpec", "agent_run", "encode_request", "workload_requests"]
