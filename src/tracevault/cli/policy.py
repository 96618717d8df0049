"""``tracevault policy``: check policy rules on a trace's group, lint rule files."""

from __future__ import annotations

import sys
from collections import Counter

import click

from ._common import emit_json, json_option, open_vault, store_option

__all__ = ["policy_group"]


@click.group("policy")
def policy_group() -> None:
    """Policy rules over joined traces: sequence, flow, budget, permission (docs/policies.md)."""


@policy_group.command("check")
@click.argument("group_id", metavar="TRACE_ID")
@click.option("--rules", "rules_file", required=True, metavar="FILE",
              type=click.Path(dir_okay=False), help="YAML rule file.")
@click.option("--store-scores", is_flag=True,
              help="Store the result as policy.<rule> scores (source eval).")
@click.option("--single", is_flag=True, help="Only this trace, not its whole group.")
@click.option("--project", default=None, help="Project of the trace.")
@store_option
@json_option
def check_command(group_id: str, rules_file: str, store_scores: bool, single: bool,
                  project: str | None, store: str | None, as_json: bool) -> None:
    """Check the rules on the trace's group (all agents, all processes).

    Exit status 0 when every rule holds, 1 when some rule is broken, 2 for errors
    (a bad rule file names the rule and field).
    """
    from ..analysis import evaluate_policies, load_policy, policy_scores

    policy = load_policy(rules_file)
    with open_vault(store, read_only=not store_scores) as vault:
        if single and not group_id.startswith("session:"):
            trace = vault.trace(group_id, project=project)
            spans, trace_ids = trace.spans, [trace.trace_id]
        else:
            group = vault.group(group_id, project=project)
            spans, trace_ids = group.spans, group.trace_ids
        violations = evaluate_policies(spans, policy)
        written = 0
        if store_scores and spans:
            scores = policy_scores(violations, policy, trace_ids, project=spans[0].project)
            written = vault.add_scores(scores)
    broken = {v.rule for v in violations}
    if as_json:
        emit_json({"trace_ids": trace_ids, "spans": len(spans),
                   "rules": [{"name": r.name, "kind": r.kind, "passed": r.name not in broken}
                             for r in policy.rules],
                   "violations": [v.to_dict() for v in violations],
                   "scores_written": written})
    else:
        click.echo(f"checked {len(policy.rules)} rule(s) on {len(trace_ids)} trace(s), "
                   f"{len(spans)} spans: {len(violations)} violation(s)")
        for rule in policy.rules:
            if rule.name not in broken:
                click.echo(f"  ok    {rule.name} ({rule.kind})")
        for v in violations:
            click.echo(f"  FAIL  {v.rule} ({v.kind}): {v.message}")
            for i, step in enumerate(v.path, 1):
                click.echo(f"          {i}. {step.agent or '?'}: {step.action}  "
                           f"[trace {step.trace_id} span {step.span_id}]")
        if store_scores:
            click.echo(f"stored {written} score(s)", err=True)
    if violations:
        sys.exit(1)


@policy_group.command("lint")
@click.argument("rules_file", metavar="FILE", type=click.Path(dir_okay=False))
def lint_command(rules_file: str) -> None:
    """Check a rule file; errors name the rule and field (exit status 2)."""
    from ..analysis import load_policy

    policy = load_policy(rules_file)
    kinds = Counter(r.kind for r in policy.rules)
    summary = ", ".join(f"{k}: {n}" for k, n in sorted(kinds.items())) or "no rules"
    click.echo(f"ok: {len(policy.rules)} rule(s) ({summary})")
