"""Incident reports as plain text, Markdown, self-contained HTML or JSON."""

from __future__ import annotations

import html
from datetime import datetime, timezone

import orjson

from ._incident import Entry, Incident

__all__ = ["FORMATS", "render_incident"]

FORMATS = ("text", "md", "html", "json")
_MARK = {"decision": "◆", "tool": "⚙", "memory": "▣", "message": "✉", "step": "·",
         "retry": "↻", "error": "✗"}


def _clock(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=timezone.utc).strftime("%H:%M:%S.%f")[:-3]


def _date(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _offset(entry: Entry, start: int) -> str:
    return f"+{(entry.time_ns - start) / 1e9:8.3f}s"


def _who(entry: Entry) -> str:
    agent = entry.agent or "?"
    return f"{agent} @{entry.service}" if entry.service else agent


def _headline(inc: Incident) -> list[tuple[str, str]]:
    return [("traces", ", ".join(inc.trace_ids)), ("status", inc.status),
            ("started", _date(inc.start_ns) if inc.start_ns else "-"),
            ("duration", f"{(inc.end_ns - inc.start_ns) / 1e9:.3f}s"),
            ("agents", ", ".join(inc.agents) or "-"),
            ("processes", ", ".join(inc.services) or "-"),
            ("spans", str(inc.span_count)),
            ("flagged tool calls", str(len(inc.flagged))),
            ("errors", str(len(inc.errors)))] + (
                [("policy violations", str(len(inc.policy)))] if inc.policy else [])


def _budget_rows(inc: Incident) -> list[tuple[str, str, str, str, str, str]]:
    rows = []
    for agent, points in sorted(inc.budget.items()):
        for p in points:
            rows.append((agent, str(p["step"]), str(p["retry"] or 0),
                         "-" if p["tokens"] is None else str(p["tokens"]),
                         "-" if p["cost_usd"] is None else f"{p['cost_usd']:.6f}",
                         "-" if p["steps"] is None else str(p["steps"])))
    return rows


_BUDGET_HEAD = ("agent", "step", "retry", "tokens left", "cost left (USD)", "steps left")


def _policy_mark(entry: Entry) -> str:
    marks = entry.details.get("policy") or []
    hit = sorted({m["rule"] for m in marks if m["role"] == "violation"})
    on_path = sorted({m["rule"] for m in marks if m["role"] != "violation"} - set(hit))
    out = f" ⛔ POLICY VIOLATION: {', '.join(hit)}" if hit else ""
    return out + (f" ⛔ on policy path: {', '.join(on_path)}" if on_path else "")


def _policy_lines(inc: Incident) -> list[tuple[str, list[str]]]:
    out = []
    for f in inc.policy:
        head = f"[{f.get('kind') or '?'}] {f['rule']}: {f.get('message') or ''}"
        steps = [f"{i}. {'+' if p['time_ns'] >= inc.start_ns else '-'}"
                 f"{abs(p['time_ns'] - inc.start_ns) / 1e9:.3f}s {p.get('agent') or '?'}: "
                 f"{p['action']} (trace {p['trace_id']}, span {p['span_id']})"
                 for i, p in enumerate(f.get("path") or [], 1)]
        out.append((head, steps))
    return out


def _text(inc: Incident) -> str:
    out = ["INCIDENT TIMELINE"]
    out += [f"  {k:<19}{v}" for k, v in _headline(inc)]
    out.append("")
    for e in inc.entries:
        flag = (" ⚠ FLAGGED" if e.flagged else "") + _policy_mark(e)
        err = "" if e.error is None or e.error in e.title else f"  ✗ {e.error}"
        out.append(f"{_offset(e, inc.start_ns)} {_MARK.get(e.kind, '-')} [{e.kind}] "
                   f"{_who(e)}: {e.title}{flag}{err}")
        if e.context:
            out.append("      context the model saw:")
            out += [f"        | {line}" for line in e.context]
    if inc.policy:
        out += ["", "POLICY VIOLATIONS"]
        for head, steps in _policy_lines(inc):
            out += [f"  {head}"] + [f"      {step}" for step in steps]
    rows = _budget_rows(inc)
    if rows:
        out += ["", "BUDGET OVER TIME"]
        widths = [max(len(r[i]) for r in [_BUDGET_HEAD, *rows]) for i in range(6)]
        for r in [_BUDGET_HEAD, *rows]:
            out.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    return "\n".join(out) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown(inc: Incident) -> str:
    out = [f"# Incident timeline: {inc.trace_ids[0] if inc.trace_ids else '-'}", ""]
    out += [f"- **{k}**: {_md_cell(v)}" for k, v in _headline(inc)]
    out += ["", "## Timeline", ""]
    for e in inc.entries:
        flag = (" **⚠ flagged**" if e.flagged else "") + \
            (f" **{_policy_mark(e).strip()}**" if _policy_mark(e) else "")
        err = f" — **error:** {_md_cell(e.error)}" if e.error and e.error not in e.title else ""
        out.append(f"- `{_offset(e, inc.start_ns).strip()}` **{e.kind}** · "
                   f"*{_md_cell(_who(e))}*: {_md_cell(e.title)}{flag}{err}")
        if e.context:
            out.append("   <details><summary>context the model saw</summary>\n")
            out += [f"   > {_md_cell(line)}  " for line in e.context]
            out.append("\n   </details>")
    if inc.policy:
        out += ["", "## Policy violations", ""]
        for head, steps in _policy_lines(inc):
            out += [f"- {_md_cell(head)}"] + [f"   {_md_cell(step)}" for step in steps]
    rows = _budget_rows(inc)
    if rows:
        out += ["", "## Budget over time", "", "| " + " | ".join(_BUDGET_HEAD) + " |",
                "|" + "---|" * len(_BUDGET_HEAD)]
        out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out) + "\n"


_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;color:#1c2430}
h1{font-size:1.3em}table{border-collapse:collapse}td,th{padding:2px 10px;text-align:left}
.head td:first-child{color:#667;font-weight:600}
.e{border-left:3px solid #ccd;padding:4px 10px;margin:4px 0}
.e.decision{border-color:#5b6ee1}.e.tool{border-color:#2b9a66}.e.memory{border-color:#b07d12}
.e.message{border-color:#8a4bd6}.e.error,.e.failed{border-color:#d1383d;background:#fff4f4}
.e.flagged{background:#fff8e1}.t{color:#667;font-family:monospace}.k{font-weight:600}
.flag{color:#a15c00;font-weight:700}.err{color:#d1383d}
.e.policy{border-color:#b3261e;background:#fdecea}.pol{color:#b3261e;font-weight:700}
pre{white-space:pre-wrap;background:#f5f6f8;padding:6px;margin:4px 0;font-size:12px}
"""


def _html(inc: Incident) -> str:
    esc = html.escape
    head = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in _headline(inc))
    items = []
    for e in inc.entries:
        classes = " ".join(c for c in (e.kind, "flagged" if e.flagged else "",
                                       "failed" if e.error else "",
                                       "policy" if _policy_mark(e) else "") if c)
        flag = ' <span class="flag">⚠ flagged</span>' if e.flagged else ""
        if _policy_mark(e):
            flag += f' <span class="pol">{esc(_policy_mark(e).strip())}</span>'
        err = (f' <span class="err">✗ {esc(e.error)}</span>'
               if e.error and e.error not in e.title else "")
        context = ""
        if e.context:
            context = ("<details><summary>context the model saw</summary><pre>"
                       + esc("\n".join(e.context)) + "</pre></details>")
        items.append(
            f'<div class="e {classes}" id="span-{esc(e.span_id)}">'
            f'<span class="t">{esc(_offset(e, inc.start_ns))} {esc(_clock(e.time_ns))}</span> '
            f'<span class="k">{esc(e.kind)}</span> · <i>{esc(_who(e))}</i>: '
            f"{esc(e.title)}{flag}{err}{context}</div>")
    budget = ""
    if inc.policy:
        budget += "<h2>Policy violations</h2>" + "".join(
            f'<div class="e policy"><b>{esc(head)}</b><ol>'
            + "".join(f"<li>{esc(step.split('. ', 1)[1])}</li>" for step in steps)
            + "</ol></div>" for head, steps in _policy_lines(inc))
    rows = _budget_rows(inc)
    if rows:
        budget += ("<h2>Budget over time</h2><table><tr>"
                  + "".join(f"<th>{esc(h)}</th>" for h in _BUDGET_HEAD) + "</tr>"
                  + "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>"
                            for r in rows) + "</table>")
    title = f"Incident timeline {inc.trace_ids[0] if inc.trace_ids else ''}"
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f"<style>{_CSS}</style></head><body><h1>{esc(title)}</h1>"
            f'<table class="head">{head}</table><h2>Timeline</h2>{"".join(items)}{budget}'
            "</body></html>\n")


def render_incident(incident: Incident, fmt: str = "text") -> str:
    """The report in ``text``, ``md``, ``html`` (self-contained) or ``json``."""
    if fmt == "text":
        return _text(incident)
    if fmt == "md":
        return _markdown(incident)
    if fmt == "html":
        return _html(incident)
    if fmt == "json":
        return orjson.dumps(incident.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n"
    raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
