"""The reviewer report as one self-contained HTML page, and as PDF (WeasyPrint)."""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path
from typing import Any

from .._exceptions import ConfigError
from .._version import __version__
from ._report import ReviewReport, RunRecord, _when

__all__ = ["render_report_html", "render_report_pdf"]

_CSS = """
@page { size: A4; margin: 16mm 14mm; @bottom-right { content: counter(page) " / " counter(pages);
        font-size: 8pt; color: #667; } }
body { font: 10pt/1.45 "DejaVu Sans", Arial, sans-serif; color: #1c2430; max-width: 60em;
       margin: 0 auto; }
h1 { font-size: 17pt; margin: 0 0 4pt; } h2 { font-size: 13pt; margin: 18pt 0 6pt;
     border-bottom: 1px solid #ccd; padding-bottom: 2pt; }
h3 { font-size: 11pt; margin: 14pt 0 4pt; page-break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0 8pt; }
th, td { border: 1px solid #d8dce3; padding: 3pt 5pt; text-align: left; vertical-align: top;
         font-size: 9pt; } th { background: #f1f3f6; }
td.t { white-space: nowrap; color: #556; font-family: "DejaVu Sans Mono", monospace; }
.ok { color: #17703f; font-weight: bold; } .bad { color: #b3261e; font-weight: bold; }
.muted { color: #667; } .risk td { background: #fff6e5; } .box { border: 1px solid #d8dce3;
       padding: 6pt 8pt; background: #fafbfc; margin: 4pt 0; }
tr { page-break-inside: avoid; }
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _table(head: list[str], rows: list[list[Any]], cls: str = "") -> str:
    if not rows:
        return '<p class="muted">None recorded.</p>'
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join(f'<tr class="{cls}">' + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


def _kv(rows: list[list[Any]]) -> str:
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _art12(report: ReviewReport) -> list[list[str]]:
    runs = report.runs
    period = (f"{len(runs)} run(s), each with start and end time, from "
              f"{_when(min(r.summary.start_time_ns for r in runs))} to "
              f"{_when(max(r.summary.end_time_ns for r in runs))}") if runs else "no runs"
    sources = sorted({e.title.split("(", 1)[0] for r in runs for e in r.entries
                      if e.kind == "tool"})
    people = sorted({p for r in runs for p in r.people})
    retention = report.retention.get("policies") or []
    return [
        ["Art. 12(1)", "Automatic recording of events over the system's lifetime",
         "Every model call, tool call, memory change and message is recorded as it happens "
         f"in an append-only store with a hash-chained ledger "
         f"({report.integrity.get('commits', 0)} commits)."],
        ["Art. 12(2)", "Events relevant to risks and to post-market monitoring",
         f"{report.risk_count} risk-relevant event(s) listed under Risk-relevant events; "
         "errors, blocked actions and destructive or external actions are marked."],
        ["Art. 12(3)(a)", "Period of each use (start and end date and time)", period],
        ["Art. 12(3)(b)", "Reference data against which input data was checked",
         "Tools and data sources consulted: " + (", ".join(sources) or "none recorded")],
        ["Art. 12(3)(c)", "Input data that led to a match",
         "Each run's input and every input the models saw are recorded in full; the run "
         "timelines below quote them."],
        ["Art. 12(3)(d)", "Persons involved in verifying the results",
         ", ".join(people) if people else "No person is recorded as approving or verifying "
         "results in this period."],
        ["Art. 19(1)", "Logs kept for at least six months", _art19(retention)],
    ]


def _art19(policies: list[dict[str, Any]]) -> str:
    deleting = [p for p in policies if p["action"] != "keep"]
    if not deleting:
        return "No retention policy deletes records: they are kept indefinitely."
    return "; ".join(
        f"{p['scope']}: deleted {p['keep_days']} days after the run ended"
        + (" (SHORTER than six months)" if p["keep_days"] < 183 else "") for p in deleting)


def _run(i: int, run: RunRecord) -> str:
    s = run.summary
    status = f'<span class="{"ok" if s.status == "ok" else "bad"}">{_e(s.status)}</span>'
    head = (f'<h3 id="run-{i}">Run {i}: {_e(s.root_name or s.trace_id)}</h3>'
            f'<div class="box">Trace <code>{_e(s.trace_id)}</code> · {_e(_when(s.start_time_ns))}'
            f" to {_e(_when(s.end_time_ns))} ({s.duration_ns / 1e9:.1f}s) · outcome {status}"
            f" · agents {_e(', '.join(s.agents) or '-')} · models "
            f"{_e(', '.join(s.models) or '-')}<br><b>Input:</b> {_e(run.input or '-')}"
            f"<br><b>Result:</b> {_e(run.output or '-')}</div>")
    rows = "".join(f'<tr><td class="t">{_e(t)}</td><td>{_e(who)}</td><td>{_e(what)}</td></tr>'
                   for t, who, what in run.sentences)
    timeline = (f"<table><tr><th>when</th><th>who</th><th>what happened</th></tr>{rows}</table>"
                if rows else '<p class="muted">No steps recorded.</p>')
    risks = _table(["category", "event"], [list(r) for r in run.risks], "risk") \
        if run.risks else ""
    return head + timeline + (f"<p><b>Risk-relevant events in this run</b></p>{risks}"
                              if risks else "")


def render_report_html(report: ReviewReport) -> str:
    """The report as one HTML document: inline styles, no scripts, no external references."""
    scope = report.scope
    outcomes = Counter(r.summary.status for r in report.runs)
    integrity = report.integrity
    ok = integrity.get("ok")
    rows = integrity.get("rows") or {}
    signed = "no signed head given" if not integrity.get("signed") else (
        "signature valid, chain matches" if ok else "checked: problems found")
    integ = (f'<span class="{"ok" if ok else "bad"}">'
             f'{"verified: the record is complete and unaltered" if ok else "NOT verified"}'
             "</span>")
    parts = [
        f"<h1>Record of AI agent activity</h1><p class=muted>Generated "
        f"{_e(_when(report.generated_ns))} by tracevault {_e(__version__)}.</p>",
        "<h2>Scope</h2>",
        _kv([["Selection", scope.get("filter") or "all runs"],
             ["Period from", scope.get("from") or "the beginning"],
             ["Period to", scope.get("to") or "now"],
             ["Project", scope.get("project") or "all"],
             ["Runs", f"{len(report.runs)} shown of {report.total_runs} in scope"]]),
        "<h2>Summary</h2>",
        _kv([["Outcomes", ", ".join(f"{n} {k}" for k, n in outcomes.items()) or "-"],
             ["Risk-relevant events", str(report.risk_count)],
             ["Integrity", "verified" if ok else "problems found"]]),
        "<h2>Systems and model versions</h2>",
        _kv([[k, ", ".join(v) or "-"] for k, v in report.systems.items()]),
        "<h2>Record-keeping duties (EU AI Act)</h2>",
        _table(["article", "duty", "how this record meets it"], _art12(report)),
        "<h2>Risk-relevant events</h2>",
        _table(["run", "category", "event"],
               [[str(i), c, d] for i, r in enumerate(report.runs, 1) for c, d in r.risks],
               "risk"),
        "<h2>Runs</h2>",
        "".join(_run(i, r) for i, r in enumerate(report.runs, 1)) or
        '<p class="muted">No runs in scope.</p>',
        "<h2>Integrity of the record</h2>",
        f"<p>{integ}</p>",
        _kv([["Commits in the ledger", str(integrity.get("commits"))],
             ["Rows checked", ", ".join(f"{k}: {v}" for k, v in rows.items())],
             ["Ledger head", str((integrity.get("head") or {}).get("chain_hash", "-"))],
             ["Signed head", signed]]),
        _table(["problem"], [[p] for p in integrity.get("problems", [])]) if not ok else "",
        "<h2>Retention and redaction</h2>",
        _retention(report),
        _table(["redaction rule", "values replaced in scope"],
               [[k, str(v)] for k, v in sorted(report.redactions.items())]),
        "<h2>Access to the record</h2>",
        _access(report),
        "<h2>How to read this report</h2><p>Each run is one task an AI agent system performed. "
        "Its timeline lists, in order, every decision a model made and the context it was "
        "given, every tool the agents used with what it returned, changes to their memory, "
        "messages between agents and errors. Times are counted from the start of the run. "
        "Actions that change data or the outside world are marked; so are actions a policy "
        "blocked.</p>",
    ]
    title = "Record of AI agent activity"
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}'
            f"</title><style>{_CSS}</style></head><body>{''.join(parts)}</body></html>\n")


def _retention(report: ReviewReport) -> str:
    r = report.retention
    if r.get("error"):
        return f'<p class="bad">Retention state could not be read: {_e(r["error"])}</p>'
    if not r or not (r.get("policies") or r.get("holds") or r.get("purges")):
        return "<p>No retention policy is configured: records are kept indefinitely.</p>"
    then = {"keep": "kept at least this long", "delete": "deleted",
            "archive": "archived to a bundle, then deleted"}
    holds = [[h["name"], ", ".join(filter(None, [
        f"{len(h['trace_ids'])} trace(s)" if h.get("trace_ids") else "",
        f"filter {h['filter']}" if h.get("filter") else "",
        f"project {h['project']}" if h.get("project") else ""])), h["reason"],
        _when(h["created_ns"])] for h in r.get("holds", [])]
    purges = [[p["seq"], p["policy"], _when(p["purged_ns"]),
               f"{p['traces']} trace(s) that ended before {_when(p['cutoff_ns'])}: "
               f"{p['spans']} spans, {p['events']} events, {p['blobs']} content blobs",
               (f"{p['archive']} (SHA-256 {p['archive_sha256'][:16]}…)" if p.get("archive")
                else "not archived")] for p in r.get("purges", [])]
    return (_table(["policy", "scope", "keep (days)", "then"],
                   [[p["name"], p["scope"], p["keep_days"], then.get(p["action"], p["action"])]
                    for p in r.get("policies", [])])
            + "<p><b>Legal holds</b> (held traces are never purged)</p>"
            + _table(["hold", "what", "reason", "since"], holds)
            + "<p><b>Purges</b>: each is a commit in the integrity ledger, so the removed "
              "records are accounted for when the ledger is verified.</p>"
            + _table(["ledger commit", "policy", "when", "removed", "archive"], purges))


def _access(report: ReviewReport) -> str:
    a = report.access
    if a.get("error"):
        return f'<p class="bad">The access log could not be read: {_e(a["error"])}</p>'
    if not a:
        return "<p>Reads of trace content are not audited by this store.</p>"
    return ("<p>Every read of trace content through the API or the web UI is logged with "
            "who read it and when; changes to retention are logged too.</p>"
            + _table(["who", "reads of trace content", "retention changes", "last"],
                     [[row["who"], row["reads"], row["changes"], _when(row["last_ns"])]
                      for row in a.get("by_principal", [])]))


def render_report_pdf(report: ReviewReport, path: str | Path) -> Path:
    """Write the report as PDF (needs WeasyPrint: ``pip install 'tracevault[pdf]'``)."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:
        raise ConfigError("PDF output needs WeasyPrint and the Pango library: "
                          f"pip install 'tracevault[pdf]' ({exc})") from None
    out = Path(path)
    HTML(string=render_report_html(report)).write_pdf(out)
    return out
