"""A leak only the joined traces show: a secret crosses two agents and two processes.

The support agent reads a customer's card from memory and tells the notifier about the
change in a message; the notifier, another process with its own trace (linked to the
message by propagated context), posts to a webhook. In the ``leak`` variant the webhook
payload carries the card number; in ``safe`` it does not. Neither trace alone breaks
the flow rule in ``LEAK_RULES`` (the support trace calls no external tool, the notifier
trace reads no memory); their group does. Run it with ``tracevault demo --scenario leak``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openai import OpenAI
from opentelemetry import trace

from .. import sdk
from .._fakemodel import FakeModel
from ._agents import Agent, Tool
from ._world import Memory

__all__ = ["LEAK_RULES", "SECRET", "LeakRun", "run_leak", "show_leak"]

SECRET = {"holder": "Ada Lovelace", "number": "4242 4242 4242 4242", "expiry": "12/29"}
"""The card on file (a test card number)."""

LEAK_RULES = """\
rules:
  - name: card-stays-inside
    kind: flow
    description: Card data read from customer memory never reaches an external service.
    sources:
      memory: ["customer/*"]
    sinks: ["send_webhook", "http_*", "send_email"]
"""
"""A rule file the ``leak`` variant breaks and the ``safe`` variant keeps."""

SUPPORT_PROMPT = ("You are the support agent. Handle the ticket; tell the notifier about "
                  "account changes with the notify tool.")
NOTIFIER_PROMPT = ("You are the notifier. Tell the billing service about account changes "
                   "with the send_webhook tool.")
TICKET = "Ticket 1187: customer 42 replaced the card on file. Make sure billing hears of it."
WEBHOOK = "https://hooks.billing.example/v1/cards"
VARIANTS = ("leak", "safe")
_STRING = {"type": "string"}


@dataclass
class LeakRun:
    """One recorded run of the scenario."""

    variant: str
    support_trace_id: str
    """The support agent's trace (memory read, message)."""
    notifier_trace_id: str
    """The notifier's trace (webhook call), linked to the message."""
    answer: str
    rules: Path
    """A rule file with the flow rule (``LEAK_RULES``)."""


def script(variant: str) -> dict[str, Any]:
    """The scripted model for both agents (``leak`` or ``safe``)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown leak variant {variant!r} (choose from {', '.join(VARIANTS)})")
    note = (f"Customer 42 replaced their card: {SECRET['number']} (exp {SECRET['expiry']}, "
            f"{SECRET['holder']}). Please tell billing.")
    payload = ({"customer": 42, "event": "card_replaced",
                "card": SECRET["number"].replace(" ", "")} if variant == "leak"
               else {"customer": 42, "event": "payment_method_updated"})
    rules = [
        {"when": {"system_contains": SUPPORT_PROMPT, "turn": 0},
         "respond": {"tool_calls": [{"name": "notify", "arguments": {
             "agent": "notifier", "message": note}}]}},
        {"when": {"system_contains": SUPPORT_PROMPT},
         "respond": "Done: the notifier told billing about the new card."},
        {"when": {"system_contains": NOTIFIER_PROMPT, "turn": 0},
         "respond": {"tool_calls": [{"name": "send_webhook", "arguments": {
             "url": WEBHOOK, "payload": json.dumps(payload)}}]}},
        {"when": {"system_contains": NOTIFIER_PROMPT}, "respond": "Billing notified."},
    ]
    return {"model": f"demo-model-{variant}", "rules": rules, "default": "I am not sure."}


def _configure(store: str, service: str, project: str | None) -> None:
    if "://" in store:
        sdk.configure(store, service_name=service, project=project)
    else:
        sdk.configure(store=store, shared_store=True, service_name=service, project=project)


def _quiet(record: dict[str, Any]) -> None:
    """The scenario keeps no per-step memory dumps."""


def run_leak(store: str, variant: str = "leak", workdir: str | Path | None = None,
             project: str | None = None) -> LeakRun:
    """Record one run into ``store`` (a store file or a server URL); no network needed."""
    root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="tracevault-leak-"))
    root.mkdir(parents=True, exist_ok=True)
    memory = Memory(root / f"memory-{variant}.json")
    memory.write("customer/card", SECRET)
    rules = root / "leak-rules.yaml"
    rules.write_text(LEAK_RULES)
    _configure(store, "demo-support", project)
    try:
        with FakeModel(script(variant)) as model:
            client = OpenAI(base_url=model.base_url, api_key="demo")
            config = {"store": store, "project": project, "model_url": model.base_url,
                      "model": model.model, "memory": str(memory.path),
                      "session_id": f"leak-{variant}-notifier"}
            called: dict[str, str] = {}

            def notify(agent: str, message: str) -> str:
                envelope = support.rec.send_message(agent, message, channel="alerts")
                reply = _notifier_process({**config, "envelope": envelope})
                called["trace_id"] = reply["trace_id"]
                return str(reply["answer"])

            support = Agent("support", SUPPORT_PROMPT, {
                "notify": Tool(notify, "Tell another agent about a change.",
                               {"type": "object", "properties": {"agent": _STRING,
                                                                 "message": _STRING},
                                "required": ["agent", "message"]}),
            }, client, model.model, memory, f"leak-{variant}-support", _quiet)
            with support.rec.run(input=TICKET) as span:
                card = support.recall("customer/card")
                answer = support.loop(f"{TICKET}\n\nCard on file: {json.dumps(card)}")
                span.set_attribute("tracevault.output", answer)
                trace_id = format(span.get_span_context().trace_id, "032x")
        sdk.flush()
    finally:
        sdk.shutdown()
    return LeakRun(variant, trace_id, called.get("trace_id", ""), answer, rules)


def show_leak(store: str, workdir: str | Path | None, project: str | None,
              as_json: bool) -> None:
    """``tracevault demo --scenario leak``: record both variants and say what to run next."""
    import click

    from ..cli._common import emit_json

    root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="tracevault-leak-"))
    runs = [run_leak(store, variant, root, project) for variant in VARIANTS]
    if as_json:
        emit_json([{"variant": r.variant, "support_trace_id": r.support_trace_id,
                    "notifier_trace_id": r.notifier_trace_id, "answer": r.answer,
                    "rules": str(r.rules)} for r in runs])
        return
    for r in runs:
        click.echo(f"{r.variant}: support trace {r.support_trace_id}, "
                   f"notifier trace {r.notifier_trace_id}")
    leak = runs[0]
    click.echo(f"\nRecorded into {store}. The card leaks only across the two traces:\n"
               f"  tracevault policy check {leak.support_trace_id} --rules {leak.rules} "
               f"--store {store}\n"
               f"  tracevault policy check {leak.notifier_trace_id} --rules {leak.rules} "
               f"--single --store {store}   # one trace alone: no violation\n"
               f"  tracevault incident {leak.support_trace_id} --store {store}")


def _notifier_process(config: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "tracevault.demo._leak"],
                          input=json.dumps(config), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"notifier process failed: {proc.stderr.strip()[-500:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _notifier_main() -> None:
    """The notifier's process: one message in on stdin, its answer and trace id out."""
    config = json.loads(sys.stdin.read())
    _configure(config["store"], "demo-notifier", config.get("project"))
    client = OpenAI(base_url=config["model_url"], api_key="demo")
    sent: list[dict[str, Any]] = []

    def send_webhook(url: str, payload: str) -> dict[str, Any]:
        sent.append({"url": url, "payload": payload})  # a stand-in: nothing leaves the host
        return {"status": 202, "delivered_to": url}

    notifier = Agent("notifier", NOTIFIER_PROMPT, {
        "send_webhook": Tool(send_webhook, "POST a JSON payload to a webhook URL.",
                             {"type": "object", "properties": {"url": _STRING,
                                                               "payload": _STRING},
                              "required": ["url", "payload"]}),
    }, client, config["model"], Memory(Path(config["memory"])), config["session_id"], _quiet)
    with notifier.rec.receive_message(config["envelope"], link=True) as content:
        trace_id = format(trace.get_current_span().get_span_context().trace_id, "032x")
        with notifier.rec.run(input=content) as span:
            answer = notifier.loop(str(content))
            span.set_attribute("tracevault.output", answer)
    sdk.shutdown()
    print(json.dumps({"answer": answer, "trace_id": trace_id}))


if __name__ == "__main__":
    _notifier_main()
