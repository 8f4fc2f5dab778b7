// The JSON API: one fetch wrapper, the tokens (sessionStorage, sent as a Bearer header), the
// server's clock, and ApiError for every answer that is not a success.

const TOKEN_KEY = "ticketing.tokens";

let tokens = loadTokens();
let clockSkew = 0; // server time minus this browser's time, in ms (from the Date header)
let sessionEnded = () => {};

export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    super((body && body.message) || `Request failed (${status})`);
    this.status = status;
    // An answer without a code (say, a proxy's own error page) reads like the server's generic ones.
    this.code = (body && body.code) || (status >= 500 ? "internal_error" : "error");
    this.details = (body && body.details) || null;
    this.retryAfter = retryAfter;
  }
}

function loadTokens() {
  try {
    return JSON.parse(sessionStorage.getItem(TOKEN_KEY)) || null;
  } catch {
    return null;
  }
}

/** Whether this tab holds tokens (a signed-in session, as far as the page knows). */
export const hasTokens = () => Boolean(tokens);

/** Keep the tokens for this tab (null forgets them). */
export function saveTokens(fresh) {
  tokens = fresh;
  if (fresh) sessionStorage.setItem(TOKEN_KEY, JSON.stringify(fresh));
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** Call `handler(message)` when the session ends under the page (a refresh token that no longer works). */
export function whenSessionEnds(handler) {
  sessionEnded = handler;
}

/** The server's time now, in ms, as far as its Date headers tell. */
export const serverNow = () => Date.now() + clockSkew;

/** One API request: the answer's JSON (its text with `text: true`, say an SVG), or an ApiError (an
 * expired access token is refreshed once). */
export async function api(method, path, { body, auth = true, headers = {}, signal, retried = false, text: raw = false } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, signal };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const sent = tokens;
  if (auth && sent) init.headers.Authorization = `Bearer ${sent.access_token}`;
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, { code: "network", message: "network" });
  }
  // The Date header is whole seconds (truncated): only a clock that is clearly off is corrected.
  const date = Date.parse(response.headers.get("Date") || "");
  if (!Number.isNaN(date)) {
    const skew = date + 500 - Date.now();
    clockSkew = Math.abs(skew) > 1500 ? skew : 0;
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (response.status === 401 && auth && sent && !retried && path !== "/auth/refresh") {
    if (await refreshTokens(sent)) return api(method, path, { body, auth, headers, signal, retried: true, text: raw });
    sessionEnded("Your session has ended. Please sign in again.");
  }
  if (!response.ok) throw new ApiError(response.status, data, response.headers.get("Retry-After"));
  return raw ? text : data;
}

async function refreshTokens(stale) {
  if (!stale.refresh_token) return false;
  try {
    const response = await fetch("/auth/refresh", {
      method: "POST", headers: { Authorization: `Bearer ${stale.refresh_token}`, Accept: "application/json" },
    });
    if (!response.ok) return false;
    const fresh = await response.json();
    saveTokens({ ...stale, access_token: fresh.access_token });
    return true;
  } catch {
    return false;
  }
}
