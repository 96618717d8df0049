// The trace list: filter language, time range, paging, compare two runs.
import {
  ApiError, api, errorBox, fmtCost, fmtDuration, fmtInt, fmtTime, h, query, statusNode,
  traceHref,
} from "./core.js";

const PAGE = 50;

function go(params) {
  location.hash = `#/traces${query(params)}`;
}

// The API's message, with a caret under the column it names (as the CLI prints it).
function filterError(err, text) {
  const column = err.body && err.body.column;
  const lines = [err.message];
  if (column && text) lines.push("", text, `${" ".repeat(Math.max(0, column - 1))}^`);
  return errorBox(lines.join("\n"), "filter-error");
}

export async function listView(view, params) {
  const filter = params.filter || "";
  const offset = Math.max(0, parseInt(params.offset || "0", 10) || 0);
  const input = h("input", { type: "text", id: "filter", name: "filter", value: filter,
    spellcheck: "false", autocomplete: "off",
    placeholder: "filter, e.g.  kind = llm and tokens > 1000   (see docs/query.md)" });
  const from = h("input", { type: "text", class: "time", id: "from", value: params.from || "",
    placeholder: "from: -24h, 2026-11-01" });
  const to = h("input", { type: "text", class: "time", id: "to", value: params.to || "",
    placeholder: "to: now" });
  const form = h("form", {
    class: "filters",
    onsubmit: (e) => {
      e.preventDefault();
      go({ filter: input.value.trim(), from: from.value.trim(), to: to.value.trim() });
    },
  }, input, from, to, h("button", { class: "primary", type: "submit", id: "apply",
    text: "Apply" }));
  const results = h("div", { id: "results" }, h("p", { class: "muted", text: "Loading…" }));
  view.replaceChildren(h("h1", { text: "Traces" }), form, results);

  let data;
  try {
    data = await api("/api/traces", { filter, start: params.from, end: params.to,
      limit: PAGE, offset });
  } catch (err) {
    if (err instanceof ApiError && err.status === 400) {
      results.replaceChildren(filterError(err, filter));
      return;
    }
    throw err;
  }
  results.replaceChildren(table(data.traces), pager(data, params, offset));
}

function table(traces) {
  if (!traces.length) return h("p", { class: "muted", id: "no-traces", text: "No traces match." });
  const chosen = new Set();
  const compare = h("button", {
    id: "compare", disabled: true, text: "Compare selected",
    onclick: () => {
      const [a, b] = [...chosen];
      location.hash = `#/diff/${encodeURIComponent(a)}/${encodeURIComponent(b)}`;
    },
  });
  const head = h("tr", null, ["Start (UTC)", "Name", "Agents", "Duration", "Status", "Spans",
    "Tokens", "Cost", "Errors", ""].map((t, i) => h("th", { class: i >= 5 && i < 9 ? "num" : null,
    text: t })));
  const rows = traces.map((t) => {
    const box = h("input", {
      type: "checkbox", title: "compare", class: "pick",
      onclick: (e) => e.stopPropagation(),
      onchange: (e) => {
        if (e.target.checked) chosen.add(t.trace_id);
        else chosen.delete(t.trace_id);
        compare.disabled = chosen.size !== 2;
      },
    });
    return h("tr", {
      class: "click trace-row", dataset: { traceId: t.trace_id },
      onclick: () => { location.hash = traceHref(t.trace_id); },
    },
    h("td", { class: "mono", text: fmtTime(t.start_time_ns) }),
    h("td", null, h("a", { href: traceHref(t.trace_id), text: t.root_name || t.trace_id })),
    h("td", { class: "chips" }, t.agents.map((a) => h("span", { text: a }))),
    h("td", { class: "num", text: fmtDuration(t.duration_ns) }),
    h("td", null, statusNode(t.status)),
    h("td", { class: "num", text: fmtInt(t.span_count) }),
    h("td", { class: "num", text: fmtInt(t.total_tokens) }),
    h("td", { class: "num", text: fmtCost(t.cost_usd) }),
    h("td", { class: "num", text: t.error_count ? String(t.error_count) : "-" }),
    h("td", null, box));
  });
  return h("div", null, h("table", { class: "grid", id: "traces" }, h("thead", null, head),
    h("tbody", null, rows)), h("div", { class: "pager" }, compare,
    h("span", { class: "muted", text: "tick two runs to compare them" })));
}

function pager(data, params, offset) {
  const last = Math.min(offset + data.traces.length, data.total);
  return h("div", { class: "pager" },
    h("button", { id: "prev", disabled: offset === 0, text: "← Newer",
      onclick: () => go({ ...params, offset: Math.max(0, offset - PAGE) }) }),
    h("span", { id: "range", text: data.total ? `${offset + 1}–${last} of ${data.total}`
      : "0 of 0" }),
    h("button", { id: "next", disabled: last >= data.total, text: "Older →",
      onclick: () => go({ ...params, offset: offset + PAGE }) }));
}
