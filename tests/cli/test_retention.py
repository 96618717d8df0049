"""``tracevault retention`` and ``tracevault audit`` on a store file."""

import json
import subprocess
import sys

from tests.conftest import shared


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tracevault", *args], capture_output=True,
                          text=True, timeout=120)


def test_policies_holds_dry_run_and_apply(store_path) -> None:
    s = ("--store", str(store_path))
    for name in ("OPENAI_trace.json", "AGNO_trace.json"):
        assert _cli("import", *s, str(shared("any_agent_genai_traces", name))).returncode == 0
    ids = [t["trace_id"] for t in json.loads(_cli("traces", "ls", *s, "--json").stdout)]
    r = _cli("retention", "set", "half-year", "--keep-days", "183", *s)
    assert r.returncode == 0 and "deleted 183 day(s) after ending" in r.stdout
    r = _cli("retention", "hold", "case-9", "--reason", "complaint 9", "--trace", ids[0], *s)
    assert r.returncode == 0, r.stderr
    r = _cli("retention", "apply", "--dry-run", *s)
    assert "would purge 1 trace(s)" in r.stdout and "1 held" in r.stdout and ids[1] in r.stdout
    assert len(json.loads(_cli("traces", "ls", *s, "--json").stdout)) == 2
    r = _cli("retention", "apply", *s)
    assert r.returncode == 0 and "purged 1 trace(s)" in r.stdout
    left = [t["trace_id"] for t in json.loads(_cli("traces", "ls", *s, "--json").stdout)]
    assert left == [ids[0]]
    r = _cli("verify", *s)
    assert r.returncode == 0 and "purge in commit 3 by policy 'half-year'" in r.stdout
    state = json.loads(_cli("retention", "ls", *s, "--json").stdout)
    assert [h["name"] for h in state["holds"]] == ["case-9"]
    assert state["purges"][0]["trace_ids"] == [ids[1]]
    assert _cli("retention", "release", "case-9", *s).returncode == 0
    assert "purged 1 trace(s)" in _cli("retention", "apply", *s).stdout
    assert json.loads(_cli("audit", *s, "--json").stdout) == []  # file reads are not API reads


def test_bad_retention_commands_exit_2_with_one_line(store_path) -> None:
    s = ("--store", str(store_path))
    for args, message in (
        (("retention", "set", "a", "--keep-days", "9", "--action", "archive"),
         "archive directory"),
        (("retention", "set", "a", "--keep-days", "-1"), "-1"),
        (("retention", "rm", "nope"), "no retention policy named 'nope'"),
        (("retention", "hold", "h", "--reason", "r"), "trace ids, a filter or a project"),
        (("retention", "hold", "h", "--reason", "r", "--filter", "kind = = llm"), "column 8"),
        (("retention", "apply", "--policy", "nope"), "no retention policy named 'nope'"),
    ):
        r = _cli(*args, *s)
        assert r.returncode == 2 and r.stderr.count("\n") == 1, (args, r.stderr)
        assert message in r.stderr, (args, r.stderr)
