// The public API, called with the key the operator pasted. The key lives in this tab's
// sessionStorage only: never in a URL, a cookie or storage that outlives the tab.

// The API's root: the page is served at <root>/console, its modules at <root>/console/*.js.
const root = new URL("../", import.meta.url);

const NETWORK = "refnet.network";
const KEY = "refnet.key";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function session() {
  const network = sessionStorage.getItem(NETWORK);
  const key = sessionStorage.getItem(KEY);
  return network && key ? { network, key } : null;
}

export function setSession(network, key) {
  sessionStorage.setItem(NETWORK, network);
  sessionStorage.setItem(KEY, key);
}

export function clearSession() {
  sessionStorage.removeItem(NETWORK);
  sessionStorage.removeItem(KEY);
}

// A path below the network, each segment encoded: user ids hold '@', '+' and worse.
export function path(...segments) {
  return segments.map((s) => encodeURIComponent(String(s))).join("/");
}

// Calls METHOD networks/<network>/<rel>; answers {status, data, location}, or throws ApiError
// with the contract's code and message.
export async function call(method, rel, { body, query } = {}) {
  const s = session();
  if (!s) throw new ApiError(0, "no_key", "Paste a network API key first.");
  const url = new URL(`networks/${encodeURIComponent(s.network)}/${rel}`, root);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, String(v));
  }
  const headers = { authorization: `Bearer ${s.key}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  let resp;
  try {
    resp = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer",
    });
  } catch (e) {
    throw new ApiError(0, "network_error", `The API did not answer (${e.message}).`);
  }
  const text = await resp.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!resp.ok) {
    const err = data && typeof data.error === "object" ? data.error : {};
    throw new ApiError(
      resp.status,
      err.code || `http_${resp.status}`,
      err.message || `The API answered ${resp.status}.`,
    );
  }
  return { status: resp.status, data, location: resp.headers.get("location") };
}
