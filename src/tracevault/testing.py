"""Public test helpers: a model server, workloads, a server subprocess, a PostgreSQL cluster.

``FakeModel`` is a real HTTP server speaking the OpenAI chat-completions API (tool calls
and streaming included), answering from a script, so agents can be tested with the real
``openai`` client and no model access. ``tracevault fake-model`` runs one from the CLI.
``PostgresCluster`` starts a private PostgreSQL (``initdb``/``pg_ctl``) for DuckLake catalogs.
"""

from ._fakemodel import FakeModel
from ._pgcluster import PostgresCluster
from ._server_process import ServerProcess, free_port
from ._workload import Prose, RunSpec, agent_run, encode_request, workload_requests

__all__ = ["FakeModel", "PostgresCluster", "Prose", "RunSpec", "ServerProcess", "agent_run",
           "encode_request", "free_port", "workload_requests"]
