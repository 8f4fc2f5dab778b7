// Signing in, creating an account and signing out, in the page's header.

import { api, ApiError, hasTokens, saveTokens } from "./api.js";
import { showOrder } from "./checkout.js";
import { announce, clearNotice, fail, notify } from "./notice.js";
import { setSeat } from "./seatmap.js";
import { el, state } from "./state.js";
import { clearTickets, loadTickets } from "./tickets.js";

/** Show who is signed in (asking the server), or the sign-in form. */
export async function showAccount() {
  if (!hasTokens()) { signedOut(); return; }
  try {
    state.user = (await api("GET", "/auth/me")).user;
    el.who.textContent = state.user.name || state.user.email;
    el.signedOut.hidden = true;
    el.signedIn.hidden = false;
    await loadTickets();
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) fail(error);
  }
}

/** Forget the session: no seat is mine on this page any more. */
export function signedOut(message) {
  saveTokens(null);
  state.user = null;
  state.order = null;
  state.retry = null;
  el.signedIn.hidden = true;
  el.signedOut.hidden = false;
  for (const seat of state.seats.values()) {
    if (seat.mine) setSeat(seat.id, { mine: false });
  }
  showOrder();
  clearTickets();
  if (message) notify(message);
}

async function signIn(register, afterSignIn) {
  const email = el.email.value.trim();
  const password = el.password.value;
  if (!email || !password) {
    notify("Enter your email and a password (at least 8 characters).");
    (email ? el.password : el.email).focus();
    return;
  }
  el.signIn.disabled = el.register.disabled = true;
  clearNotice();
  try {
    if (register) await api("POST", "/auth/register", { body: { email, password }, auth: false });
    const tokens = await api("POST", "/auth/login", { body: { email, password }, auth: false });
    saveTokens({ access_token: tokens.access_token, refresh_token: tokens.refresh_token });
    el.password.value = "";
    await showAccount();
    if (register) notify("Your account is ready. Pick your seats.", "info");
    await afterSignIn();
  } catch (error) {
    fail(error);
  } finally {
    el.signIn.disabled = el.register.disabled = false;
  }
}

/** Listen to the header's forms; `afterSignIn()` runs once a session starts. */
export function initAccount(afterSignIn) {
  el.authForm.addEventListener("submit", (event) => { event.preventDefault(); signIn(false, afterSignIn); });
  el.register.addEventListener("click", () => signIn(true, afterSignIn));
  el.signOut.addEventListener("click", async () => {
    try { await api("POST", "/auth/logout"); } catch { /* signing out locally is what matters */ }
    signedOut();
    announce("Signed out.");
  });
}
