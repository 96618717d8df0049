"""The policy rule language: YAML and Python give the same rules; mistakes name rule and field."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from tracevault.analysis import (
    BudgetRule,
    FlowRule,
    Match,
    PermissionRule,
    Policy,
    PolicyError,
    SequenceRule,
    load_policy,
    parse_policy,
)

RULES = """\
humans: ["ops-*"]
rules:
  - name: approve-deploys
    kind: sequence
    tool: deploy*
    agents: [ops]
    preceded_by:
      - run_tests
      - {guardrail: change-approval, decision: allow}
      - {message: "*approved*", human: true, to: ops}
    not_preceded_by: [{span: "rollback*"}]
    fresh: true
  - name: card-stays-inside
    kind: flow
    sources: {memory: ["customer/*"], tools: [lookup_customer]}
    sinks: [send_webhook, "http_*"]
    min_match: 10
  - name: coder-budget
    kind: budget
    per: group
    agents: coder
    limits: {tokens: 5000, cost_usd: 0.5, steps: 8, tool_calls: 20, model_calls: 9,
             duration_s: 60}
  - name: coder-tools
    kind: permission
    agents: [coder]
    allow: [read_file, write_file]
    deny: [delegate]
"""


def test_yaml_and_python_build_the_same_rules() -> None:
    policy = parse_policy(RULES)
    built = Policy([
        SequenceRule("approve-deploys", tool="deploy*", agents=["ops"], fresh=True,
                     preceded_by=["run_tests",
                                  Match(guardrail="change-approval", decision="allow"),
                                  {"message": "*approved*", "human": True, "to": "ops"}],
                     not_preceded_by=[Match(span="rollback*")]),
        FlowRule("card-stays-inside", sources={"memory": ["customer/*"],
                                               "tools": "lookup_customer"},
                 sinks=["send_webhook", "http_*"], min_match=10),
        BudgetRule("coder-budget", per="group", agents="coder",
                   limits={"tokens": 5000, "cost_usd": 0.5, "steps": 8, "tool_calls": 20,
                           "model_calls": 9, "duration_s": 60}),
        PermissionRule("coder-tools", agents=["coder"], allow=["read_file", "write_file"],
                       deny=["delegate"]),
    ], humans=["ops-*"])
    assert policy == built
    assert [r.kind for r in policy.rules] == ["sequence", "flow", "budget", "permission"]
    seq = policy.rule("approve-deploys")
    assert seq.preceded_by[0] == Match(tool="run_tests")
    assert seq.preceded_by[2].target == ("message", "*approved*")
    assert policy.rule("card-stays-inside").memory == ("customer/*",)
    # the YAML form round-trips
    assert parse_policy(yaml.safe_dump(policy.to_dict())) == policy


def test_a_list_of_rules_is_a_rule_file(tmp_path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("- {name: no-shell, kind: permission, deny: [shell*]}\n")
    policy = load_policy(path)
    assert policy.rules == [PermissionRule("no-shell", deny=["shell*"])]
    assert policy.rules[0].agents == ("*",) and policy.rules[0].allow is None


BAD = [
    ("rules:\n  - {name: r1, kind: flwo}\n",
     "rule 'r1': field 'kind': unknown kind 'flwo'"),
    ("rules:\n  - {name: r2, kind: flow, sources: {memory: [a]}}\n",
     "rule 'r2': field 'sinks': required"),
    ("rules:\n  - {kind: budget, limits: {tokens: 1}}\n",
     "rule '#1': field 'name': required"),
    ("rules:\n  - {name: r3, kind: flow, sources: {memory: ['customer/[ab']}, sinks: [x]}\n",
     "rule 'r3': field 'sources.memory': bad glob 'customer/[ab'"),
    ("rules:\n  - {name: r4, kind: budget, limits: {tokens: -1}}\n",
     "rule 'r4': field 'limits.tokens': expected an integer >= 0"),
    ("rules:\n  - {name: r5, kind: budget, limits: {money: 1}}\n",
     "rule 'r5': field 'limits': unknown limit(s) money"),
    ("rules:\n  - {name: r6, kind: permission, agents: [coder]}\n",
     "rule 'r6': field 'allow': give allow and/or deny"),
    ("rules:\n  - {name: r7, kind: sequence, tool: x, preceded_by: [{tool: a, decision: ok}]}\n",
     "rule 'r7': field 'preceded_by[0].decision': only a guardrail matcher has a decision"),
    ("rules:\n  - {name: r8, kind: sequence, tool: x}\n",
     "rule 'r8': field 'preceded_by': give preceded_by and/or not_preceded_by"),
    ("rules:\n  - {name: r9, kind: permission, deny: [x], colour: red}\n",
     "rule 'r9': field 'colour': unknown field"),
    ("rules:\n  - {name: r10, kind: budget, per: team, limits: {steps: 1}}\n",
     "rule 'r10': field 'per': expected agent or group"),
    ("rules:\n  - {name: 'bad name', kind: permission, deny: [x]}\n",
     "rule 'bad name': field 'name': expected a name"),
    ("rules:\n  - {name: a, kind: permission, deny: [x]}\n  - {name: a, kind: permission, "
     "deny: [y]}\n", "rule 'a': field 'name': a second rule has this name"),
    ("rules:\n  - name: x\n   kind: flow\n", "not valid YAML: line 3"),
    ("rules: {name: x}\n", "field 'rules': expected a list of rules"),
]


@pytest.mark.parametrize("text, message", BAD)
def test_mistakes_name_the_rule_and_field(text, message) -> None:
    with pytest.raises(PolicyError) as err:
        parse_policy(text, "rules.yaml")
    assert str(err.value).startswith("rules.yaml: ")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_python_rules_are_checked_like_yaml_ones() -> None:
    with pytest.raises(PolicyError, match="rule 'leak': field 'sources': name memory keys"):
        FlowRule("leak", sources={}, sinks=["x"])
    with pytest.raises(PolicyError, match=r"rule 'p': field 'deny\[1\]': bad glob"):
        PermissionRule("p", deny=["ok", "[x"])
    with pytest.raises(PolicyError, match="give exactly one of tool, guardrail"):
        Match(tool="a", span="b")


@pytest.mark.parametrize("text, message", [BAD[0], BAD[3], BAD[6], BAD[13]])
def test_lint_exits_2_with_one_line(tmp_path, text, message) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    r = subprocess.run([sys.executable, "-m", "tracevault", "policy", "lint", str(path)],
                       capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and str(path) in lines[0]


def test_lint_accepts_a_good_file(tmp_path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    r = subprocess.run([sys.executable, "-m", "tracevault", "policy", "lint", str(path)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok: 4 rule(s) (budget: 1, flow: 1, permission: 1, sequence: 1)"
