// The console's shell: the key for this tab, and the sections.
import { call, session, setSession, clearSession } from "./api.js";
import { h, showError } from "./dom.js";
import * as programs from "./programs.js";
import * as user from "./user.js";
import * as rewards from "./rewards.js";
import * as jobs from "./jobs.js";
import * as webhooks from "./webhooks.js";

const views = { programs, user, rewards, jobs, webhooks };
const view = document.getElementById("view");
const status = document.getElementById("session-status");
const nav = document.getElementById("nav");

function show(name) {
  for (const b of nav.querySelectorAll("button")) {
    if (b.dataset.view === name) b.setAttribute("aria-current", "page");
    else b.removeAttribute("aria-current");
  }
  if (!session()) {
    view.replaceChildren(h("p", {}, "Paste a network API key above first."));
    return;
  }
  view.focus();
  return views[name].render(view);
}

async function signIn(network, key) {
  setSession(network, key);
  // One call proves the key before any view uses it.
  try {
    await call("GET", "connections", { query: { limit: 1 } });
  } catch (err) {
    clearSession();
    showError(status, err);
    return;
  }
  status.replaceChildren(`Using network ${network}. The key is kept for this tab only.`);
  await show("programs");
}

document.getElementById("session").addEventListener("submit", (e) => {
  e.preventDefault();
  const network = document.getElementById("network").value.trim();
  const keyInput = document.getElementById("key");
  const key = keyInput.value.trim();
  keyInput.value = "";
  signIn(network, key);
});

document.getElementById("forget").addEventListener("click", () => {
  clearSession();
  status.replaceChildren("Key forgotten.");
  view.replaceChildren(h("p", {}, "Paste a network API key above."));
});

nav.addEventListener("click", (e) => {
  const name = e.target instanceof HTMLElement ? e.target.dataset.view : undefined;
  if (name) show(name);
});

const s = session();
if (s) {
  document.getElementById("network").value = s.network;
  status.replaceChildren(`Using network ${s.network}. The key is kept for this tab only.`);
  show("programs");
}
