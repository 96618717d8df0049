"""Public test helpers: synthetic agent workloads as OTLP, a server subprocess."""

from ._server_process import ServerProcess, free_port
from ._workload import Prose, RunSpec, agent_run, encode_request, workload_requests

__all__ = ["Prose", "RunSpec", "ServerProcess", "agent_run", "encode_request", "free_port",
           "workload_requests"]
