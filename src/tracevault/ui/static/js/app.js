// Entry point: hash routes, API-key sign-in, and the page views.
import { ApiError, apiKey, errorBox, h, setApiKey } from "./core.js";
import { diffView, groupView } from "./group.js";
import { listView } from "./list.js";
import { traceView } from "./trace.js";

const main = document.getElementById("main");

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, search] = raw.split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { parts, params: Object.fromEntries(new URLSearchParams(search || "")) };
}

function showWho() {
  const who = document.getElementById("who");
  who.replaceChildren();
  if (apiKey()) {
    who.append(h("button", {
      text: "Sign out",
      onclick: () => {
        setApiKey(null);
        route();
      },
    }));
  }
}

function signIn(message) {
  const input = h("input", { type: "password", id: "api-key", placeholder: "API key",
    autocomplete: "off" });
  const form = h("form", {
    class: "login",
    onsubmit: (e) => {
      e.preventDefault();
      setApiKey(input.value.trim());
      route();
    },
  },
  h("h1", { text: "Sign in" }),
  h("p", { class: "muted", text: "This tracevault server needs an API key. It is kept in this "
    + "browser tab only (session storage)." }),
  message ? errorBox(message) : null,
  input,
  h("button", { class: "primary", type: "submit", text: "Sign in" }));
  main.replaceChildren(form);
  input.focus();
}

let current = 0;

export async function route() {
  const token = ++current;
  const { parts, params } = parseHash();
  showWho();
  const view = h("div", { class: "view" });
  main.replaceChildren(view);
  try {
    if (parts[0] === "trace" && parts[1]) await traceView(view, parts[1], params);
    else if (parts[0] === "group" && parts[1]) await groupView(view, parts[1]);
    else if (parts[0] === "diff" && parts[1] && parts[2]) await diffView(view, parts[1], parts[2]);
    else await listView(view, params);
  } catch (err) {
    if (token !== current) return;
    if (err instanceof ApiError && err.status === 401) {
      signIn(err.message);
      return;
    }
    view.replaceChildren(errorBox(err.message || String(err)));
  }
}

window.addEventListener("hashchange", route);
route();
