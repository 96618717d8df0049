// The trace view: a collapsible span tree beside its waterfall; the selected span's content.
import {
  api, fmtCost, fmtDuration, fmtInt, fmtTime, h, kindBadge, statusNode, traceHref,
} from "./core.js";
import { spanDetail } from "./span.js";

// Levels open when a trace opens (deeper subtrees start collapsed); fewer for big traces.
const openDepth = (n) => (n > 2000 ? 1 : 3);

function buildTree(spans) {
  const byId = new Map(spans.map((s) => [s.span_id, s]));
  const children = new Map();
  const roots = [];
  for (const s of spans) {
    if (s.parent_span_id && byId.has(s.parent_span_id)) {
      if (!children.has(s.parent_span_id)) children.set(s.parent_span_id, []);
      children.get(s.parent_span_id).push(s);
    } else {
      roots.push(s);
    }
  }
  // depth and acting agent (own, else nearest ancestor's), iteratively: traces can be deep
  const stack = roots.map((s) => [s, 0, null]);
  while (stack.length) {
    const [s, depth, agent] = stack.pop();
    s.depth = depth;
    s.acting = s.agent || agent;
    for (const c of children.get(s.span_id) || []) stack.push([c, depth + 1, s.acting]);
  }
  return { byId, children, roots };
}

// The trace's scores (evals, human labels, online checks), latest per name, under the summary.
async function showScores(view, traceId) {
  let data;
  try {
    data = await api("/api/scores", { trace_id: traceId });
  } catch (err) {
    return; // scores are an extra: the trace reads without them
  }
  const latest = new Map();
  for (const s of data.scores) latest.set(s.name, s);
  if (!latest.size) return;
  const chips = [...latest.values()].map((s) => {
    const shown = s.label ?? (s.value ?? (s.passed === null ? "" : (s.passed ? "pass" : "fail")));
    return h("span", { class: s.passed === false ? "score-fail" : null,
      title: [s.source, s.explanation].filter(Boolean).join(": "),
      text: `${s.name}: ${typeof shown === "number" ? Number(shown.toFixed(3)) : shown}` });
  });
  const summary = view.querySelector(".summary");
  if (summary) summary.after(h("div", { class: "chips scores", id: "scores" }, "scores ", chips));
}

export async function traceView(view, traceId, params) {
  const started = performance.now();
  const data = await api(`/api/traces/${encodeURIComponent(traceId)}/outline`);
  const sum = data.summary;
  const tree = buildTree(data.spans);
  const depth = openDepth(data.spans.length);
  const expanded = new Set(data.spans.filter((s) => s.depth < depth
    && tree.children.has(s.span_id)).map((s) => s.span_id));
  const t0 = sum.start_time_ns;
  const span = Math.max(1, sum.end_time_ns - t0);
  let selected = params.span || null;

  const rows = h("div", { class: "rows", id: "rows" });
  const detail = h("div", { class: "detail-pane", id: "detail" },
    h("p", { class: "muted", text: "Select a span to see its full content." }));

  const linked = new Set();
  for (const s of data.spans) for (const l of s.links || []) {
    if (l.trace_id && l.trace_id !== traceId) linked.add(l.trace_id);
  }

  function row(s) {
    const kids = tree.children.get(s.span_id);
    const open = expanded.has(s.span_id);
    const toggle = h("button", {
      class: `toggle${kids ? "" : " leaf"}`, title: open ? "collapse" : "expand",
      text: open ? "▾" : "▸", "aria-expanded": kids ? String(open) : null,
      onclick: (e) => {
        e.stopPropagation();
        if (open) expanded.delete(s.span_id);
        else expanded.add(s.span_id);
        render();
      },
    });
    const left = ((s.start_time_ns - t0) / span) * 100;
    const width = Math.max(((s.end_time_ns - s.start_time_ns) / span) * 100, 0.15);
    const failed = s.status === "error";
    const label = s.kind === "llm" ? s.model : s.kind === "tool" ? s.tool
      : s.kind === "message" && s.sender ? `${s.sender} → ${s.receiver || "?"}` : null;
    return h("div", {
      class: `row${s.span_id === selected ? " selected" : ""}`,
      dataset: { spanId: s.span_id, kind: s.kind, depth: String(s.depth) },
      onclick: () => select(s.span_id),
    },
    h("div", { class: "cell-name", style: { paddingLeft: `${4 + s.depth * 14}px` } },
      toggle, kindBadge(s.kind), h("span", { class: "name", text: s.name }),
      label && label !== s.name ? h("span", { class: "agent-chip", text: label }) : null,
      s.agent ? h("span", { class: "agent-chip", text: `@${s.agent}` }) : null,
      failed ? h("span", { class: "err-mark", title: s.status_message || "error", text: "!" })
        : null),
    h("div", { class: "cell-bar" },
      h("div", { class: `bar k-${s.kind}${failed ? " err" : ""}`,
        style: { left: `${left}%`, width: `${width}%` } }),
      h("span", { class: "bar-label", text: fmtDuration(s.end_time_ns - s.start_time_ns),
        style: left + width > 80 ? { right: `${100 - left + 0.5}%` }
          : { left: `${left + width + 0.5}%` } })));
  }

  function render() {
    const out = [];
    const stack = [...tree.roots].reverse();
    while (stack.length) {
      const s = stack.pop();
      out.push(row(s));
      if (expanded.has(s.span_id)) {
        const kids = tree.children.get(s.span_id) || [];
        for (let i = kids.length - 1; i >= 0; i -= 1) stack.push(kids[i]);
      }
    }
    const top = rows.scrollTop;
    rows.replaceChildren(...out);
    rows.scrollTop = top;
    count.textContent = `${out.length.toLocaleString("en-US")} of `
      + `${data.spans.length.toLocaleString("en-US")} spans shown`;
  }

  async function select(spanId) {
    selected = spanId;
    for (const el of rows.querySelectorAll(".row.selected")) el.classList.remove("selected");
    const el = rows.querySelector(`.row[data-span-id="${CSS.escape(spanId)}"]`);
    if (el) el.classList.add("selected");
    history.replaceState(null, "", traceHref(traceId, spanId));
    detail.replaceChildren(h("p", { class: "muted", text: "Loading…" }));
    detail.replaceChildren(await spanDetail(traceId, spanId, tree.byId.get(spanId)));
  }

  function reveal(spanId) { // expand the ancestors of a span chosen by URL
    let s = tree.byId.get(spanId);
    while (s && s.parent_span_id && tree.byId.has(s.parent_span_id)) {
      expanded.add(s.parent_span_id);
      s = tree.byId.get(s.parent_span_id);
    }
  }

  const count = h("span", { class: "muted", id: "span-count" });
  const tools = h("div", { class: "tree-tools" },
    h("button", { id: "expand-all", text: "Expand all", onclick: () => {
      for (const id of tree.children.keys()) expanded.add(id);
      render();
    } }),
    h("button", { id: "collapse-all", text: "Collapse all", onclick: () => {
      expanded.clear();
      render();
    } }),
    count);

  view.replaceChildren(
    h("h1", null, sum.root_name || traceId, " ", statusNode(sum.status)),
    h("div", { class: "summary" },
      h("span", null, "trace ", h("b", { class: "mono", text: traceId })),
      h("span", null, "start ", h("b", { text: fmtTime(sum.start_time_ns) })),
      h("span", null, "duration ", h("b", { text: fmtDuration(sum.duration_ns) })),
      h("span", null, "spans ", h("b", { text: fmtInt(sum.span_count) })),
      h("span", null, "tokens ", h("b", { text: fmtInt(sum.total_tokens) })),
      h("span", null, "cost ", h("b", { text: fmtCost(sum.cost_usd) })),
      h("span", null, "agents ", h("b", { text: sum.agents.join(", ") || "-" })),
      h("span", null, "models ", h("b", { text: sum.models.join(", ") || "-" })),
      sum.session_ids.length ? h("span", null, "session ",
        h("b", { text: sum.session_ids.join(", ") })) : null,
      h("a", { href: `#/group/${encodeURIComponent(traceId)}`, id: "joined-link",
        text: "Joined view →" }),
      linked.size ? h("span", { id: "linked" }, "linked: ", [...linked].map((id) =>
        h("a", { href: traceHref(id), class: "mono", text: `${id.slice(0, 12)}… ` }))) : null),
    h("div", { class: "trace-layout" }, h("div", { class: "tree-pane" }, tools, rows), detail));
  if (selected) reveal(selected);
  render();
  showScores(view, traceId);
  view.dataset.ready = String(Math.round(performance.now() - started));
  if (selected && tree.byId.has(selected)) await select(selected);
}
