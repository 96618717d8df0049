// One span's full content, loaded when it is selected.
import {
  api, fmtCost, fmtDuration, fmtInt, fmtTime, h, kindBadge, pretty, statusNode, textBlock,
  traceHref,
} from "./core.js";

function kv(rows) {
  const body = rows.filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => h("tr", null, h("td", { text: k }),
      h("td", null, v instanceof Node ? v : textBlock(v))));
  return body.length ? h("table", { class: "kv" }, h("tbody", null, body)) : null;
}

function part(p) {
  const label = (text) => h("div", { class: "part-label", text });
  switch (p.type) {
    case "text":
      return h("div", { class: "part" }, textBlock(p.content));
    case "reasoning":
      return h("div", { class: "part" }, label("reasoning"), textBlock(p.content));
    case "tool_call":
      return h("div", { class: "part tool-call" },
        label(`tool call ${p.name}${p.id ? ` (${p.id})` : ""}`), textBlock(p.arguments));
    case "tool_call_response":
      return h("div", { class: "part tool-response" },
        label(`tool result${p.id ? ` for ${p.id}` : ""}`), textBlock(p.response));
    case "uri": // shown, never fetched: the page loads nothing from other hosts
      return h("div", { class: "part" }, label(`${p.modality || "uri"} ${p.mime_type || ""}`),
        h("code", { text: p.uri }));
    case "blob":
      return h("div", { class: "part" }, label(`${p.modality || "blob"} ${p.mime_type || ""}`),
        h("span", { class: "muted", text: `${(p.content || "").length} base64 characters` }));
    default:
      return h("div", { class: "part" }, label(p.type), textBlock(p));
  }
}

export function messages(list, cls) {
  return h("div", { class: cls }, (list || []).map((m, i) => h("div", {
    class: `msg role-${m.role}`, dataset: { index: String(i) },
  }, h("div", { class: "role", text: m.name ? `${m.role} · ${m.name}` : m.role }),
  (m.parts || []).map(part),
  m.finish_reason ? h("div", { class: "part muted", text: `finish: ${m.finish_reason}` })
    : null)));
}

function section(title, ...content) {
  const body = content.flat().filter((c) => c);
  return body.length ? h("section", null, h("h3", { text: title }), body) : null;
}

function kindContent(s) {
  const d = s.detail || {};
  switch (d.kind) {
    case "llm":
      return [
        section("Model", kv([["provider", d.provider], ["request", d.request_model],
          ["response", d.response_model], ["response id", d.response_id],
          ["parameters", Object.keys(d.parameters || {}).length ? d.parameters : null],
          ["finish", (d.finish_reasons || []).join(", ")],
          ["tokens", d.usage ? `${fmtInt(d.usage.input_tokens)} in, `
            + `${fmtInt(d.usage.output_tokens)} out` : null],
          ["cost", d.cost_usd ? fmtCost(d.cost_usd) : null]])),
        (d.system_instructions || []).length ? section("System instructions",
          h("div", { class: "msg role-system" }, d.system_instructions.map(part))) : null,
        section(`Input messages (${(d.input_messages || []).length})`,
          messages(d.input_messages, "input-messages")),
        section("Output", messages(d.output_messages, "output-messages")),
        (d.tool_definitions || []).length ? section(`Tools offered (${d.tool_definitions.length})`,
          h("details", null, h("summary", { text: d.tool_definitions.map((t) => t.name)
            .join(", ") }), textBlock(d.tool_definitions))) : null,
      ];
    case "tool":
      return [section("Tool call", kv([["tool", d.name], ["call id", d.call_id],
        ["type", d.type], ["description", d.description], ["arguments", d.arguments],
        ["result", d.result], ["error", d.error],
        ["blocked", d.blocked ? "yes: a policy blocked this call" : null]]))];
    case "memory":
      return [section("Memory", kv([["operation", d.operation], ["store", d.store],
        ["keys", (d.keys || []).join(", ")], ["query", d.query], ["values", d.values]]))];
    case "message":
      return [section("Message", kv([["from", d.sender], ["to", d.receiver],
        ["direction", d.direction], ["channel", d.channel], ["message id", d.message_id],
        ["content", d.content]]))];
    case "retrieval":
      return [section("Retrieval", kv([["query", d.query], ["source", d.data_source],
        ["documents", (d.documents || []).length ? d.documents : null]]))];
    case "guardrail":
      return [section("Guardrail", kv([["name", d.name], ["decision", d.decision],
        ["input", d.input], ["output", d.output]]))];
    default:
      return [section("Input and output", kv([["operation", d.operation],
        ["description", d.description], ["input", d.input], ["output", d.output]]))];
  }
}

function harness(s) {
  const st = s.harness;
  if (!st) return null;
  const b = st.budget || {};
  const left = ["tokens", "cost_usd", "steps", "time_s"].filter((k) => b[k] !== null
    && b[k] !== undefined).map((k) => `${k}=${b[k]}`).join(", ");
  return section("Harness state", kv([["goal", st.goal], ["step", st.step_index],
    ["retry", st.retry_count], ["budget left", left]]));
}

function attributes(traceId, s) {
  const table = kv(Object.entries(s.attributes || {}).sort(([a], [b]) => a.localeCompare(b)));
  const holder = h("div", null, table);
  const original = h("button", {
    text: "Show exactly as sent",
    onclick: async () => {
      const full = await api(`/api/traces/${encodeURIComponent(traceId)}/spans/`
        + `${encodeURIComponent(s.span_id)}`, { original: "true" });
      holder.replaceChildren(kv(Object.entries(full.attributes || {})
        .sort(([a], [b]) => a.localeCompare(b))));
      original.remove();
    },
  });
  return section("Attributes", original, holder);
}

export async function spanDetail(traceId, spanId) {
  const s = await api(`/api/traces/${encodeURIComponent(traceId)}/spans/`
    + `${encodeURIComponent(spanId)}`);
  const links = (s.links || []).map((l) => h("div", null, l.trace_id !== traceId
    ? h("a", { href: traceHref(l.trace_id, l.span_id), class: "mono linked-trace",
      text: `${l.trace_id} / ${l.span_id}` })
    : h("span", { class: "mono", text: l.span_id }),
  Object.keys(l.attributes || {}).length ? h("span", { class: "muted",
    text: ` ${pretty(l.attributes)}` }) : null));
  const events = (s.events || []).map((e) => h("div", null,
    h("span", { class: "mono", text: `${fmtTime(e.time_ns)} ${e.name}` }),
    Object.keys(e.attributes || {}).length ? textBlock(e.attributes) : null));
  return h("div", { class: "span-detail", dataset: { spanId } },
    h("h2", null, kindBadge(s.kind), " ", s.name),
    kv([["status", h("span", null, statusNode(s.status.code), s.status.message
      ? ` ${s.status.message}` : "")], ["error type", s.status.error_type],
    ["agent", s.agent && s.agent.name], ["service", s.resource.service_name],
    ["harness", s.resource.harness_name], ["start", fmtTime(s.start_time_ns)],
    ["duration", fmtDuration(s.duration_ns)], ["session", s.session_id],
    ["span id", s.span_id], ["convention", s.convention]]),
    kindContent(s),
    harness(s),
    events.length ? section(`Events (${events.length})`, events) : null,
    links.length ? section(`Links (${links.length})`, links) : null,
    attributes(traceId, s),
    section("Resource", kv(Object.entries(s.resource.attributes || {}))));
}
