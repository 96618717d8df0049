"""REST scores: confined to the key's project; bad scores answered with 400."""

from tests.conftest import shared


def test_rest_scores_are_confined_to_the_key_project(make_client) -> None:
    client = make_client(api_keys="k-alpha=alpha")
    key = {"Authorization": "Bearer k-alpha"}
    body = shared("any_agent_genai_traces", "OPENAI_trace.json").read_bytes()
    assert client.post("/api/import", content=body, headers=key).status_code == 200
    trace_id = client.get("/api/traces", headers=key).json()["traces"][0]["trace_id"]
    r = client.post("/api/scores", headers=key, json={"scores": [
        {"name": "ok", "label": "good", "trace_id": trace_id, "source": "human"}]})
    assert r.status_code == 200, r.text
    stored = client.get("/api/scores", headers=key).json()["scores"]
    assert stored[0]["project"] == "alpha" and stored[0]["author"].startswith("key alpha #")
    r = client.post("/api/scores", headers=key, json={"scores": [
        {"name": "ok", "value": 1, "trace_id": trace_id, "project": "beta"}]})
    assert r.status_code == 401 and "not writable" in r.json()["message"]
    for bad, message in (({"name": "ok", "trace_id": trace_id}, "no value"),
                         ({"name": "ok", "value": 1, "trace_id": trace_id, "source": "robot"},
                          "unknown score source"),
                         ({"name": "ok", "value": "high", "trace_id": trace_id}, "score 0"),
                         ({"name": "ok", "value": 1, "trace": trace_id}, "unknown score field")):
        r = client.post("/api/scores", headers=key, json={"scores": [bad]})
        assert r.status_code == 400 and message in r.json()["message"], (bad, r.text)
