// The back office (/office): an organizer's organizations, members, venues and events through the same
// JSON API as the box office. Role-aware: a door member is sent to the door page, a manager works
// with venues, events and seats, an owner also manages members. Native ES modules, no build step.

import { api, ApiError, hasTokens, saveTokens, whenSessionEnds } from "../api.js";
import { closeEvent, initEvents, loadEvents, venuesChanged } from "./events.js";
import { initMembers, loadMembers } from "./members.js";
import { initSales } from "./sales.js";
import { can, state } from "./state.js";
import { $, announce, busy, clearNotice, fail, notify } from "./ui.js";
import { initVenues, loadVenues } from "./venues.js";

const ROLE_WORDS = {
  owner: "You are an owner: members, venues, events and seats.",
  manager: "You are a manager: venues, events and seats (an owner manages members).",
  door: "You are door staff: check-in only.",
};
const ORG_KEY = "ticketing.office.organization";

async function showAccount(chosenId) {
  try {
    const me = await api("GET", "/auth/me");
    state.user = me.user;
    state.organizations = me.organizations;
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) fail(error);
    signedOut();
    return;
  }
  $("who").textContent = state.user.name || state.user.email;
  $("auth-form").hidden = true;
  $("signed-in").hidden = false;
  $("intro").hidden = true;
  $("office").hidden = false;
  renderOrganizations(chosenId);
}

function signedOut(message) {
  saveTokens(null);
  state.user = null;
  state.organizations = [];
  state.organization = null;
  closeEvent();
  $("auth-form").hidden = false;
  $("signed-in").hidden = true;
  $("intro").hidden = false;
  $("office").hidden = true;
  if (message) notify(message);
}

function renderOrganizations(chosenId) {
  const select = $("org-select");
  select.replaceChildren(...state.organizations.map((org) => {
    const option = document.createElement("option");
    option.value = String(org.id);
    option.textContent = `${org.name} (${org.role})`;
    return option;
  }));
  const none = !state.organizations.length;
  $("org-choice").hidden = none;
  $("no-orgs").hidden = !none;
  $("new-org").open = none;
  const wanted = chosenId ?? Number(new URLSearchParams(location.search).get("organization") || sessionStorage.getItem(ORG_KEY));
  const chosen = state.organizations.find((org) => org.id === wanted) || state.organizations[0];
  if (chosen) select.value = String(chosen.id);
  chooseOrganization(chosen || null);
}

async function chooseOrganization(org) {
  state.generation += 1;
  state.organization = org;
  state.venues = [];
  state.events = [];
  closeEvent();
  if (org) sessionStorage.setItem(ORG_KEY, String(org.id));
  const admin = state.user && state.user.is_admin;
  $("role-line").textContent = org ? (admin && org.role !== "owner" ? "You are a platform admin: everything." : ROLE_WORDS[org.role]) : "";
  const organizer = Boolean(org) && can("manager");
  $("organizer").hidden = !organizer;
  $("door-note").hidden = !org || organizer;
  if (org) $("door-org").textContent = org.name;
  if (!organizer) return;
  loadMembers();
  await Promise.all([loadVenues(), loadEvents()]);
}

async function signIn(register) {
  const email = $("email").value.trim();
  const password = $("password").value;
  if (!email || !password) {
    notify("Enter your email and a password (at least 8 characters).");
    (email ? $("password") : $("email")).focus();
    return;
  }
  clearNotice();
  await busy([$("sign-in"), $("register")], async () => {
    try {
      if (register) await api("POST", "/auth/register", { body: { email, password }, auth: false });
      const tokens = await api("POST", "/auth/login", { body: { email, password }, auth: false });
      saveTokens({ access_token: tokens.access_token, refresh_token: tokens.refresh_token });
      $("password").value = "";
      await showAccount();
      announce("Signed in.");
    } catch (error) {
      fail(error);
    }
  });
}

async function createOrganization() {
  const name = $("org-name").value.trim();
  if (!name) { notify("Give the organization a name."); $("org-name").focus(); return; }
  clearNotice();
  await busy($("org-form").querySelectorAll("button"), async () => {
    try {
      const answer = await api("POST", "/organizations", { body: { name } });
      $("org-name").value = "";
      state.organizations = (await api("GET", "/organizations")).organizations;
      renderOrganizations(answer.organization.id);
      notify(`${answer.organization.name} created: you are its owner.`, "info");
    } catch (error) {
      fail(error);
    }
  });
}

$("auth-form").addEventListener("submit", (event) => { event.preventDefault(); signIn(false); });
$("register").addEventListener("click", () => signIn(true));
$("sign-out").addEventListener("click", async () => {
  try { await api("POST", "/auth/logout"); } catch { /* signing out here is what matters */ }
  signedOut();
  announce("Signed out.");
});
$("org-select").addEventListener("change", () => {
  const org = state.organizations.find((item) => String(item.id) === $("org-select").value);
  chooseOrganization(org || null);
});
$("org-form").addEventListener("submit", (event) => { event.preventDefault(); createOrganization(); });
$("notice-close").addEventListener("click", clearNotice);
whenSessionEnds(signedOut);
initMembers(() => showAccount(state.organization && state.organization.id));
initVenues(venuesChanged);
initEvents();
initSales();
if (hasTokens()) showAccount();
