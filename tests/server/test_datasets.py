"""Datasets over REST, and the CLI working through a running server."""

import json
import shutil
import subprocess
import sys

from tests.conftest import RunningServer


def test_dataset_routes(make_client, store_path, demo_store) -> None:
    shutil.copy(demo_store[0], store_path)
    client = make_client()
    items = [{"id": "a1", "input": "hello", "expected_output": "hi",
              "expected_trajectory": [], "metadata": {}}]
    r = client.post("/api/datasets/greetings", json={"items": items, "source": {"by": "hand"}})
    assert r.status_code == 200 and r.json()["dataset"]["version"] == 1
    got = client.get("/api/datasets/greetings").json()
    assert got["items"][0]["input"] == "hello" and got["dataset"]["source"] == {"by": "hand"}
    assert client.get("/api/datasets").json()["datasets"][0]["name"] == "greetings"
    assert client.get("/api/datasets/greetings", params={"version": 2}).status_code == 404
    assert client.post("/api/datasets/bad name!", json={"items": items}).status_code == 400
    assert client.post("/api/datasets/greetings", json={"items": []}).status_code == 400
    # an item from a file has no trace here: labelling it is refused with the reason
    r = client.post("/api/datasets/greetings/items/a1/label", json={"label": "good"})
    assert r.status_code == 400 and "cannot be labelled here" in r.json()["message"]


def test_the_cli_makes_and_labels_datasets_through_a_running_server(tmp_path,
                                                                    demo_store) -> None:
    path = tmp_path / "s.duckdb"
    shutil.copy(demo_store[0], path)
    bad = next(r.trace_id for r in demo_store[1] if r.variant == "bad_research")

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "tracevault", *args, "--store", str(path)],
                              capture_output=True, text=True, timeout=120)

    with RunningServer(path, grpc=False) as srv:
        r = cli("dataset", "create", "failures", "--filter", "trace.status = error")
        assert r.returncode == 0 and "version 1: 1 item(s)" in r.stdout, r.stderr
        item = json.loads(cli("dataset", "show", "failures", "--json").stdout)["items"][0]
        assert item["trace_id"] == bad
        import httpx

        r = httpx.post(f"{srv.url}/api/datasets/failures/items/{item['id']}/label",
                       json={"label": "wrong-schema", "comment": "version 1 is retired"})
        assert r.status_code == 200 and r.json()["author"] == "local 127.0.0.1"
        scores = httpx.get(f"{srv.url}/api/scores", params={"trace_id": bad}).json()["scores"]
        assert [(s["label"], s["source"], s["run_id"]) for s in scores] == [
            ("wrong-schema", "human", "dataset:failures")]
