"""Public test helpers: a scripted model server, agent workloads, a server subprocess.

``FakeModel`` is a real HTTP server speaking the OpenAI chat-completions API (tool calls
and streaming included), answering from a script, so agents can be tested with the real
``openai`` client and no model access. ``tracevault fake-model`` runs one from the CLI.
"""

from ._fakemodel import FakeModel
from ._server_process import ServerProcess, free_port
from ._workload import Prose, RunSpec, agent_run, encode_request, workload_requests

__all__ = ["FakeModel", "Prose", "RunSpec", "ServerProcess", "agent_run", "encode_request",
           "free_port", "workload_requests"]
