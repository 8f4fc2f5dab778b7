// The box-office page: the seat map of one event, kept live from the change feed, and the whole
// purchase (hold seats, order, pay with a test card, the buyer's tickets) through the public JSON API.
// Native ES modules, no framework and no build step; this one wires the others together.

import { initAccount, showAccount, signedOut } from "./account.js";
import { api, hasTokens, whenSessionEnds } from "./api.js";
import { initBest, showCategories } from "./best.js";
import { initCheckout, loadOrder, renderBasket } from "./checkout.js";
import { follow } from "./feed.js";
import { toggleSeat } from "./holds.js";
import { clearNotice, fail } from "./notice.js";
import { answered, currentStamp, drawMap, initSeatMap, onSeatsChanged, setSeat, showInsteadOfMap } from "./seatmap.js";
import { el, state } from "./state.js";

const STATUS_NOTES = { draft: "draft", closed: "sales closed", cancelled: "cancelled" };

/** Without ?event=: the first event on sale with a seating plan (an organizer's), else the first on sale. */
function firstToShow(events) {
  const onSale = events.filter((event) => event.status === "on_sale");
  return onSale.find((event) => event.venue_id !== null) || onSale[0] || events[0];
}

async function loadEvents() {
  const answer = await api("GET", "/events", { auth: false });
  el.eventSelect.replaceChildren();
  for (const event of answer.events) {
    const option = document.createElement("option");
    option.value = event.id;
    const when = event.starts_at ? ` · ${new Date(event.starts_at).toLocaleString()}` : "";
    const status = STATUS_NOTES[event.status] ? ` (${STATUS_NOTES[event.status]})` : "";
    option.textContent = `${event.name}${when}${status}`;
    el.eventSelect.appendChild(option);
  }
  if (!answer.events.length) {
    showInsteadOfMap("No events yet. Seed one with: flask --app wsgi seed-demo");
    return;
  }
  const wanted = Number(new URLSearchParams(location.search).get("event"));
  const chosen = answer.events.find((event) => event.id === wanted) || firstToShow(answer.events);
  el.eventSelect.value = String(chosen.id);
  await loadEvent(chosen.id, answer.events);
}

async function loadEvent(eventId, known) {
  const generation = ++state.generation;
  if (state.feedAbort) state.feedAbort.abort(); // the old event's held request frees its server thread
  state.feedAbort = new AbortController();
  const signal = state.feedAbort.signal;
  el.map.setAttribute("aria-busy", "true");
  try {
    const event = (known && known.find((item) => item.id === eventId)) ||
      (await api("GET", `/events/${eventId}`, { auth: false })).event;
    // The cursor first, then the map: a change in between is replayed by the feed, never lost.
    const feed = await api("GET", `/events/${eventId}/changes`, { auth: false });
    const map = await api("GET", `/events/${eventId}/seats`);
    if (generation !== state.generation) return;
    state.event = event;
    showCategories(event);
    drawMap(map.seats);
    follow(eventId, feed.cursor, generation, signal, () => loadEvent(eventId));
    await loadOrder(generation);
  } catch (error) {
    if (generation === state.generation) fail(error);
  }
}

// After signing in: the same map, now knowing which seats are mine; updated in place (no redraw,
// so focus and a click in progress are kept).
async function refreshMap() {
  if (!state.event) return;
  const generation = state.generation;
  const asked = currentStamp();
  try {
    const map = await api("GET", `/events/${state.event.id}/seats`);
    if (generation !== state.generation) return;
    for (const raw of map.seats) setSeat(raw.id, answered(raw), asked); // a seat changed since keeps its newer state
    await loadOrder(generation);
  } catch (error) {
    if (generation === state.generation) fail(error);
  }
}

el.eventSelect.addEventListener("change", () => {
  const eventId = Number(el.eventSelect.value);
  const url = new URL(location.href);
  url.searchParams.set("event", eventId);
  history.replaceState(null, "", url);
  state.order = null;
  state.retry = null;
  loadEvent(eventId);
});
el.noticeClose.addEventListener("click", clearNotice);
whenSessionEnds(signedOut);
onSeatsChanged(renderBasket);
initSeatMap(toggleSeat);
initAccount(refreshMap);
initCheckout();
initBest();

async function start() {
  if (hasTokens()) await showAccount();
  try {
    await loadEvents();
  } catch (error) {
    fail(error);
  }
}
start();
