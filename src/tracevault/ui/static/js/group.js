// The joined view of a trace group (lanes per agent, messages between them) and the diff.
import {
  api, fmtCost, fmtDuration, fmtInt, fmtTime, h, kindBadge, statusNode, textBlock,
  traceHref,
} from "./core.js";

export async function groupView(view, groupId) {
  const g = await api(`/api/groups/${encodeURIComponent(groupId)}`, { timeline: "true" });
  const timeline = g.timeline;
  const lanes = [];
  const laneOf = (agent) => {
    const name = agent || "(no agent)";
    if (!lanes.includes(name)) lanes.push(name);
    return lanes.indexOf(name);
  };
  for (const e of timeline) {
    laneOf(e.agent);
    if (e.kind === "message" && e.details.receiver) laneOf(e.details.receiver);
  }
  const t0 = timeline.length ? timeline[0].time_ns : 0;
  const grid = h("div", { class: "lanes", id: "lanes" });
  grid.style.gridTemplateColumns = `90px repeat(${lanes.length}, minmax(180px, 1fr))`;
  grid.append(h("div", { class: "lane-head", text: "time" }),
    ...lanes.map((name) => h("div", { class: "lane-head lane-name", text: name })));
  for (const e of timeline) {
    const at = laneOf(e.agent);
    const open = () => { location.hash = traceHref(e.trace_id, e.span_id); };
    grid.append(h("div", { class: "lane-cell lane-time", text: `+${fmtDuration(e.time_ns - t0)}` }));
    if (e.kind === "message" && e.details.receiver) {
      const to = laneOf(e.details.receiver);
      const [lo, hi] = [Math.min(at, to), Math.max(at, to)];
      const arrow = at <= to ? `${lanes[at]} ──▶ ${lanes[to]}` : `${lanes[to]} ◀── ${lanes[at]}`;
      const cell = h("div", { class: "lane-cell lane-msg lane-entry", dataset: {
        kind: "message", sender: lanes[at], receiver: lanes[to] }, onclick: open },
      h("b", { text: arrow }), " ", h("span", { text: e.title.split(": ").slice(1).join(": ") }));
      cell.style.gridColumn = `${lo + 2} / ${hi + 3}`;
      if (lo > 0) grid.append(h("div", { class: "lane-cell" }));
      if (lo > 0) grid.lastChild.style.gridColumn = `2 / ${lo + 2}`;
      grid.append(cell);
      if (hi < lanes.length - 1) {
        const rest = h("div", { class: "lane-cell" });
        rest.style.gridColumn = `${hi + 3} / ${lanes.length + 2}`;
        grid.append(rest);
      }
      continue;
    }
    for (let i = 0; i < lanes.length; i += 1) {
      if (i !== at) {
        grid.append(h("div", { class: "lane-cell" }));
        continue;
      }
      grid.append(h("div", {
        class: `lane-cell lane-entry${e.error ? " lane-err" : ""}`,
        dataset: { kind: e.kind, agent: lanes[at] }, title: e.service || "", onclick: open,
      }, kindBadge(e.kind === "decision" ? "llm" : e.kind), " ", e.title,
      e.error ? h("div", { text: e.error }) : null));
    }
  }
  const traces = h("table", { class: "grid" }, h("tr", null, ["trace", "name", "service",
    "agents", "start", "duration", "status"].map((t) => h("th", { text: t }))),
  g.traces.map((t) => h("tr", null,
    h("td", null, h("a", { href: traceHref(t.trace_id), class: "mono", text: t.trace_id })),
    h("td", { text: t.root_name || "-" }), h("td", { text: t.service_name || "-" }),
    h("td", { text: t.agents.join(", ") }), h("td", { text: fmtTime(t.start_time_ns) }),
    h("td", { text: fmtDuration(t.duration_ns) }), h("td", null, statusNode(t.status)))));
  const pairs = g.messages.map((m) => h("span", { text: `${m.sender} → ${m.receiver}: ${m.count}` }));
  view.replaceChildren(
    h("h1", { text: "Joined view" }),
    h("p", { class: "muted" }, `${g.trace_ids.length} trace(s) joined by links, propagated `
      + "context and sessions; one lane per agent, messages between agents as arrows. "
      + "Click an entry to open its span."),
    h("div", { class: "chips", id: "message-pairs" }, pairs),
    h("h2", { text: "Traces" }), traces,
    h("h2", { text: `Timeline (${timeline.length} entries)` }), grid);
}

function decision(d) {
  if (!d) return h("span", { class: "muted", text: "(none)" });
  if (d.tool_calls.length) {
    return textBlock(d.tool_calls.map((c) => `${c.name}(${JSON.stringify(c.arguments)})`)
      .join("\n"));
  }
  return textBlock(d.text || "(empty answer)");
}

export async function diffView(view, a, b) {
  const d = await api("/api/diff", { a, b });
  const steps = d.steps.map((s) => h("tr", { class: !s.same || s.context_changed
    ? "changed" : null },
  h("td", { text: s.agent || "-" }), h("td", { class: "num", text: String(s.index) }),
  h("td", { text: s.same ? "same" : "different" }),
  h("td", { text: s.context_changed ? "changed" : "" }),
  h("td", null, s.a_span ? h("a", { href: traceHref(d.a, s.a_span), text: "A" }) : null, " ",
    decision(s.a)),
  h("td", null, s.b_span ? h("a", { href: traceHref(d.b, s.b_span), text: "B" }) : null, " ",
    decision(s.b)),
  h("td", { class: "num", text: `${s.a_tokens} / ${s.b_tokens}` })));
  const tools = d.tools.map((t) => h("tr", { class: t.arguments_changed || t.result_changed
    ? "changed" : null },
  h("td", { text: t.agent || "-" }), h("td", { class: "num", text: String(t.index) }),
  h("td", { text: t.a_name === t.b_name ? t.a_name || "-" : `${t.a_name || "-"} / `
    + `${t.b_name || "-"}` }),
  h("td", null, textBlock(t.a_arguments)), h("td", null, textBlock(t.b_arguments)),
  h("td", null, textBlock(t.a_result)), h("td", null, textBlock(t.b_result))));
  const head = (cols) => h("tr", null, cols.map((c) => h("th", { text: c })));
  view.replaceChildren(
    h("h1", { text: "Compare two runs" }),
    h("div", { class: "summary" },
      h("span", null, "A ", h("a", { href: traceHref(d.a), class: "mono", text: d.a })),
      h("span", null, "B ", h("a", { href: traceHref(d.b), class: "mono", text: d.b })),
      h("span", null, "tokens ", h("b", { text: `${fmtInt(d.tokens.a)} → ${fmtInt(d.tokens.b)}` })),
      h("span", null, "cost ", h("b", { text: `${fmtCost(d.cost_usd.a)} → `
        + `${fmtCost(d.cost_usd.b)}` })),
      h("b", { id: "verdict", text: d.equal_content ? "same content"
        : `${d.steps.filter((s) => !s.same || s.context_changed).length} model call(s) and `
          + `${d.tools.filter((t) => t.arguments_changed || t.result_changed).length} tool `
          + "call(s) differ" })),
    h("h2", { text: "Model calls" }),
    h("table", { class: "grid", id: "diff-steps" }, head(["agent", "#", "decision", "context",
      "A", "B", "tokens A / B"]), steps),
    h("h2", { text: "Tool calls" }),
    h("table", { class: "grid", id: "diff-tools" }, head(["agent", "#", "tool", "arguments A",
      "arguments B", "result A", "result B"]), tools),
  );
}
