// Shared pieces of the UI: DOM building, the API client (with API-key sign-in), formatting.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "style") Object.assign(el.style, value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.message ? body.message : `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

const KEY = "tracevault.key";

export function apiKey() {
  return sessionStorage.getItem(KEY);
}

export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === null || v === undefined || v === "") continue;
    for (const item of Array.isArray(v) ? v : [v]) q.append(k, String(item));
  }
  const text = q.toString();
  return text ? `?${text}` : "";
}

export async function api(path, params) {
  const headers = { "X-Tracevault-Client": "ui" };
  const key = apiKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  const response = await fetch(path + query(params), { headers });
  let body = null;
  try {
    body = await response.json();
  } catch (e) {
    body = null;
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

export function fmtDuration(ns) {
  if (ns === null || ns === undefined) return "-";
  const abs = Math.abs(ns);
  if (abs >= 60e9) return `${(ns / 60e9).toFixed(1)} min`;
  if (abs >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (abs >= 1e6) return `${(ns / 1e6).toFixed(1)} ms`;
  if (abs >= 1e3) return `${Math.round(ns / 1e3)} µs`;
  return `${ns} ns`;
}

export function fmtTime(ns) {
  if (!ns) return "-";
  return new Date(ns / 1e6).toISOString().replace("T", " ").slice(0, 19);
}

export function fmtCost(usd) {
  if (!usd) return "-";
  if (usd < 0.0001) return `$${usd.toPrecision(2)}`;
  return `$${usd < 0.01 ? usd.toFixed(4) : usd.toFixed(2)}`;
}

export function fmtInt(n) {
  return n ? Number(n).toLocaleString("en-US") : "-";
}

export function statusNode(status) {
  return h("span", { class: `status-${status}`, text: status || "-" });
}

export function kindBadge(kind) {
  const known = ["llm", "tool", "agent", "memory", "message", "step", "retrieval", "guardrail"];
  return h("span", { class: `kind k-${known.includes(kind) ? kind : "other"}`, text: kind });
}

export function pretty(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") {
    const t = value.trim();
    if ((t.startsWith("{") && t.endsWith("}")) || (t.startsWith("[") && t.endsWith("]"))) {
      try {
        return JSON.stringify(JSON.parse(t), null, 2);
      } catch (e) {
        return value;
      }
    }
    return value;
  }
  return JSON.stringify(value, null, 2);
}

const LONG = 4000;

// A block of text; long values show their start and load the rest on request.
export function textBlock(value) {
  const text = pretty(value);
  const pre = h("pre", { text: text.length > LONG ? `${text.slice(0, LONG)}…` : text });
  if (text.length <= LONG) return pre;
  const more = h("button", {
    class: "more",
    text: `Show all (${text.length.toLocaleString("en-US")} characters)`,
    onclick: () => {
      pre.textContent = text;
      more.remove();
    },
  });
  return h("div", null, pre, more);
}

export function errorBox(message, id) {
  return h("div", { class: "error", id: id || null, role: "alert", text: message });
}

export function link(href, text) {
  return h("a", { href, text });
}

export function traceHref(traceId, spanId) {
  const id = encodeURIComponent(traceId);
  return spanId ? `#/trace/${id}?span=${encodeURIComponent(spanId)}` : `#/trace/${id}`;
}
