"""The fake model server speaks the OpenAI API for the real ``openai`` client."""

import json

import httpx
import openai
import pytest

from tracevault.testing import FakeModel


def test_rules_then_responses_then_default() -> None:
    script = {"model": "m1", "rules": [{"when": {"contains": "ping"}, "respond": "pong"}],
              "responses": ["one", "two"], "default": "done"}
    with FakeModel(script) as fm:
        client = openai.OpenAI(base_url=fm.base_url, api_key="x")

        def ask(text: str) -> str:
            r = client.chat.completions.create(model="any", messages=[
                {"role": "user", "content": text}])
            return r.choices[0].message.content

        assert [ask("ping"), ask("a"), ask("ping"), ask("b"), ask("c")] == \
            ["pong", "one", "pong", "two", "done"]
        assert len(fm.requests) == 5 and fm.requests[0]["messages"][0]["content"] == "ping"


def test_two_scripts_are_two_models() -> None:
    a = FakeModel({"model": "alpha", "default": "A"}).start()
    b = FakeModel({"model": "beta", "default": "B"}).start()
    try:
        answers = {}
        for fm in (a, b):
            c = openai.OpenAI(base_url=fm.base_url, api_key="x")
            r = c.chat.completions.create(model="x", messages=[{"role": "user", "content": "?"}])
            answers[r.model] = r.choices[0].message.content
        assert answers == {"alpha": "A", "beta": "B"}
        assert [m.id for m in openai.OpenAI(base_url=a.base_url, api_key="x").models.list()] \
            == ["alpha"]
    finally:
        a.stop()
        b.stop()


def test_tool_calls_plain_and_streamed(tmp_path) -> None:
    path = tmp_path / "script.json"
    path.write_text(json.dumps({"rules": [{"when": {"turn": 0}, "respond": {"tool_calls": [
        {"name": "lookup", "arguments": {"q": "x"}}]}}], "default": "final"}))
    with FakeModel(path) as fm:
        c = openai.OpenAI(base_url=fm.base_url, api_key="x")
        msgs = [{"role": "user", "content": "go"}]
        r = c.chat.completions.create(model="m", messages=msgs)
        call = r.choices[0].message.tool_calls[0]
        assert (call.function.name, json.loads(call.function.arguments)) == ("lookup", {"q": "x"})
        assert r.choices[0].finish_reason == "tool_calls"
        stream = c.chat.completions.create(model="m", messages=msgs, stream=True)
        names = [tc.function.name for ch in stream if ch.choices
                 for tc in ch.choices[0].delta.tool_calls or []]
        assert names == ["lookup"]


def test_bad_requests_are_4xx() -> None:
    with FakeModel({}) as fm:
        r = httpx.post(fm.base_url + "/chat/completions", content=b"{nope",
                       headers={"Content-Type": "application/json"})
        assert r.status_code == 400
        assert httpx.post(fm.base_url + "/embeddings", json={}).status_code == 404


@pytest.mark.parametrize("missing", ["missing.json"])
def test_cli_refuses_a_missing_script(missing: str) -> None:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "tracevault", "fake-model", "--script",
                           missing], capture_output=True, text=True)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
