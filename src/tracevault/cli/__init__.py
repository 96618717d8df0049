"""The ``tracevault`` command line. One module per command; each is a thin shell."""

from __future__ import annotations

import click

from .._version import __version__
from ._common import CLIGroup
from .analysis import incident_command, memory_command, sql_command
from .attribution import attribution_group
from .datasets import dataset_group
from .demo import demo_command
from .evals import eval_group, scores_group
from .exchange import bundle_group, export_command
from .fake_model import fake_model_command
from .import_ import import_command
from .maintain import maintain_command
from .policy import policy_group
from .replay import diff_command, replay_command
from .report import report_command
from .retention import audit_command, retention_group
from .schema import schema_group
from .serve import serve_command
from .traces import traces_group
from .verify import ledger_group, verify_command

__all__ = ["main"]


@click.group(cls=CLIGroup, context_settings={"auto_envvar_prefix": "TRACEVAULT",
                                             "help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tracevault")
def main() -> None:
    """tracevault: the trace store for AI agents."""


main.add_command(serve_command)
main.add_command(traces_group)
main.add_command(import_command)
main.add_command(schema_group)
main.add_command(verify_command)
main.add_command(ledger_group)
main.add_command(maintain_command)
main.add_command(demo_command)
main.add_command(fake_model_command)
main.add_command(sql_command)
main.add_command(incident_command)
main.add_command(memory_command)
main.add_command(replay_command)
main.add_command(diff_command)
main.add_command(report_command)
main.add_command(retention_group)
main.add_command(audit_command)
main.add_command(dataset_group)
main.add_command(eval_group)
main.add_command(scores_group)
main.add_command(export_command)
main.add_command(bundle_group)
main.add_command(policy_group)
main.add_command(attribution_group)
