"""The access log and the retention routes over REST, with and without API keys."""

import hashlib

from tests.conftest import shared

OPENAI = "any_agent_genai_traces", "OPENAI_trace.json"


def _auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def _import(client, headers=None) -> str:
    r = client.post("/api/import", content=shared(*OPENAI).read_bytes(), headers=headers)
    assert r.status_code == 200, r.text
    return client.get("/api/traces", headers=headers).json()["traces"][0]["trace_id"]


def test_reads_of_content_are_logged_with_who_what_and_when(make_client) -> None:
    client = make_client(api_keys="key-alpha=alpha,key-admin=*")
    trace_id = _import(client, _auth("key-alpha"))
    trace = client.get(f"/api/traces/{trace_id}", headers=_auth("key-alpha")).json()
    span_id = trace["spans"][0]["span_id"]
    assert client.get(f"/api/traces/{trace_id}/spans/{span_id}",
                      headers={**_auth("key-alpha"), "X-Tracevault-Client": "ui"}
                      ).status_code == 200
    client.get(f"/api/groups/{trace_id}/incident", headers=_auth("key-alpha"))
    client.get("/api/traces", headers=_auth("key-alpha"))  # summaries: not content

    # Only an admin key reads the log; a project key is refused with a reason.
    r = client.get("/api/audit", headers=_auth("key-alpha"))
    assert r.status_code == 401 and "admin API key" in r.json()["message"]
    entries = client.get("/api/audit", headers=_auth("key-admin")).json()["entries"]
    fingerprint = hashlib.sha256(b"key-alpha").hexdigest()[:8]
    assert [(e["action"], e["target"], e["project"], e["via"]) for e in entries] == [
        ("read.incident", trace_id, "alpha", "api"),
        ("read.span", f"{trace_id}/{span_id}", "alpha", "ui"),
        ("read.trace", trace_id, "alpha", "api"),
    ]
    assert {e["principal"] for e in entries} == {f"key alpha #{fingerprint}"}
    assert "key-alpha" not in str(entries)  # never the key itself
    assert entries[0]["time_ns"] >= entries[1]["time_ns"] >= entries[2]["time_ns"]
    since = client.get("/api/audit", params={"from": entries[0]["time_ns"]},
                       headers=_auth("key-admin")).json()["entries"]
    assert [e["action"] for e in since] == ["read.incident"]


def test_retention_routes_need_an_admin_and_answer_bad_input_with_400(make_client) -> None:
    client = make_client(api_keys="key-alpha=alpha,key-admin=*")
    _import(client, _auth("key-alpha"))
    admin = _auth("key-admin")
    assert client.get("/api/retention", headers=_auth("key-alpha")).status_code == 401
    r = client.put("/api/retention/policies/p", json={"keep_days": 1, "action": "shred"},
                   headers=admin)
    assert r.status_code == 400 and "action" in r.json()["message"]
    r = client.put("/api/retention/policies/p", json={"keep_days": 1, "action": "archive"},
                   headers=admin)
    assert r.status_code == 400 and "archive directory" in r.json()["message"]
    r = client.put("/api/retention/holds/h", json={"reason": "r", "filter": "kind = = x"},
                   headers=admin)
    assert r.status_code == 400 and "column" in r.json()["message"]
    assert client.delete("/api/retention/holds/none", headers=admin).status_code == 400
    r = client.put("/api/retention/policies/p", json={"keep_days": 30}, headers=admin)
    assert r.status_code == 200 and r.json()["scope"] == "all traces"
    r = client.post("/api/retention/apply", json={"dry_run": True}, headers=admin)
    assert r.json()["policies"][0]["traces"] == 1  # recorded in 2025
    r = client.post("/api/retention/apply", json={}, headers=admin)
    assert r.json()["policies"][0]["purge"]["spans"] == 6
    assert client.get("/api/traces", headers=admin).json()["total"] == 0
    assert client.get("/api/verify", headers=admin).json()["ok"]
    state = client.get("/api/retention", headers=admin).json()
    assert [p["policy"] for p in state["purges"]] == ["p"]
    changes = [e["action"] for e in client.get("/api/audit", headers=admin).json()["entries"]]
    assert changes == ["retention.apply", "retention.set"]


def test_the_server_applies_retention_on_its_own_schedule(make_client) -> None:
    import time

    client = make_client(retention_every="0.2s")
    _import(client)
    assert client.put("/api/retention/policies/p", json={"keep_days": 30}).status_code == 200
    deadline = time.monotonic() + 20
    while client.get("/api/traces").json()["total"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert client.get("/api/traces").json()["total"] == 0
    assert client.get("/api/verify").json()["ok"]
    entries = client.get("/api/audit").json()["entries"]
    assert [(e["principal"], e["via"]) for e in entries if e["action"] == "retention.apply"] \
        == [("scheduler", "server")]


def test_bad_schedules_are_refused() -> None:
    import pytest

    from tracevault._exceptions import ConfigError
    from tracevault.config import Settings

    assert Settings.load(retention_every="6h").retention_every == 6 * 3600
    for bad in ("soon", "-5m"):
        with pytest.raises(ConfigError, match="duration"):
            Settings.load(retention_every=bad)
