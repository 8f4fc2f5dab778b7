// Events: the organization's list, a new one from a venue (a price for each category its layout
// uses), publishing and closing, and the event's live map, where seats are selected and blocked or
// unblocked (all or none). The map follows the change feed (docs/change-feed.md).

import { api, ApiError } from "../api.js";
import { MESSAGES, plainWords } from "../errors.js";
import { cents, money } from "../format.js";
import { categoriesOf, layOut, sectionBoxes } from "./layout.js";
import { SeatPlan } from "./plan.js";
import { closeSales, openSales } from "./sales.js";
import { renderLegend } from "./venues.js";
import { $, announce, busy, clearNotice, count, fail, h, isoFromLocal, notify, when } from "./ui.js";
import { state } from "./state.js";

const FEED_WAIT_SECONDS = 20;
const STATUS_WORDS = { draft: "Draft (only your organization sees it)", on_sale: "On sale", closed: "Sales closed", cancelled: "Cancelled" };
const COUNTED = [["available", "Available"], ["locked", "Held"], ["booked", "Sold"], ["blocked", "Blocked"]];
const FIELD_WORDS = {
  name: "Name", venue_id: "Venue", starts_at: "Starts at", currency: "Currency", categories: "Prices",
  default_price: "Price of seats without a category", sales_start: "Sales open", sales_end: "Sales end",
};

let plan = null;
let eventGeneration = 0; // bumps when another event opens (or none): its old answers are dropped
let feedAbort = null;
let seatIndex = new Map(); // seat id -> index in plan.seats
let labelIndex = new Map(); // label (lower case) -> index
let priceCategories = []; // the categories of the venue chosen in the form

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const labelOf = (seatId) => (seatIndex.has(seatId) ? plan.seats[seatIndex.get(seatId)].label : `#${seatId}`);

export async function loadEvents() {
  const generation = state.generation;
  try {
    const answer = await api("GET", "/events");
    if (generation !== state.generation) return;
    state.events = answer.events.filter((event) => event.organization_id === state.organization.id);
  } catch (error) {
    state.events = [];
    fail(error);
  }
  renderEvents();
}

function renderEvents() {
  const list = $("event-list");
  if (!state.events.length) {
    list.replaceChildren(h("li", { className: "muted" }, "No events yet: create one from a venue below."));
    return;
  }
  list.replaceChildren(...state.events.map((event) => {
    const open = h("button", { type: "button", className: "link" }, event.name);
    open.addEventListener("click", async () => {
      await openEvent(event.id);
      $("event-title").focus(); // the event's panel is further down: take the reader there
    });
    if (state.event && state.event.id === event.id) open.setAttribute("aria-current", "true");
    return h("li", { dataset: { eventId: event.id } }, open,
      h("span", { className: `badge ${event.status}` }, STATUS_WORDS[event.status].split(" (")[0]),
      h("span", { className: "muted" }, ` ${when(event.starts_at)}`));
  }));
}

/** The venue list changed: refill the form's venue choice. */
export function venuesChanged() {
  const select = $("event-venue");
  const before = select.value;
  select.replaceChildren(h("option", { value: "" }, "Choose a venue"),
    ...state.venues.map((venue) => h("option", { value: String(venue.id) }, `${venue.name} (${count(venue.seat_count)} seats)`)));
  if (state.venues.some((venue) => String(venue.id) === before)) select.value = before;
  showPriceFields();
}

function showPriceFields() {
  const venue = state.venues.find((item) => String(item.id) === $("event-venue").value);
  const fields = $("price-fields");
  fields.replaceChildren();
  priceCategories = [];
  $("prices-empty").hidden = Boolean(venue);
  if (!venue) return;
  const seats = layOut(venue.layout).seats;
  priceCategories = categoriesOf(seats);
  priceCategories.forEach((category, i) => {
    fields.append(h("label", {}, h("span", {}, `${category} price`),
      h("input", { id: `price-${i}`, inputMode: "decimal", required: true, autocomplete: "off", dataset: { category } })));
  });
  if (seats.some((seat) => seat.category === null)) {
    fields.append(h("label", {}, h("span", {}, priceCategories.length ? "Price of seats without a category" : "Price of a seat"),
      h("input", { id: "price-default", inputMode: "decimal", autocomplete: "off", placeholder: "0.00" })));
  }
}

/** A validation error's details in words (categories.1.price names its category). */
function formProblems(error) {
  if (!(error instanceof ApiError && error.code === "validation_error" && error.details)) return plainWords(error);
  const problems = Object.entries(error.details).map(([field, list]) => {
    const price = /^categories\.(\d+)\.price$/.exec(field);
    const words = price ? `${priceCategories[Number(price[1])] || "A category"} price` : FIELD_WORDS[field] || field;
    return `${words}: ${list.join(" ").replace(/\.$/, "")}.`;
  });
  return `${MESSAGES.validation_error} ${problems.join(" ")}`;
}

async function createEvent() {
  clearNotice();
  const name = $("event-name").value.trim();
  const venueId = Number($("event-venue").value);
  const startsAt = isoFromLocal($("event-starts").value);
  const missing = [];
  if (!name) missing.push("a name");
  if (!venueId) missing.push("a venue");
  if (!startsAt) missing.push("when it starts");
  const categories = priceCategories.map((category, i) => ({ name: category, price: $(`price-${i}`).value.trim() }));
  const unpriced = categories.filter((category) => !category.price).map((category) => category.name);
  if (unpriced.length) missing.push(`a price for ${unpriced.join(", ")}`);
  if (missing.length) { notify(`Please give the event ${missing.join(", ")}.`); return; }
  const body = { name, venue_id: venueId, starts_at: startsAt, categories };
  const currency = $("event-currency").value.trim();
  if (currency) body.currency = currency;
  const defaultPrice = document.getElementById("price-default");
  if (defaultPrice && defaultPrice.value.trim()) body.default_price = defaultPrice.value.trim();
  const salesStart = isoFromLocal($("event-sales-start").value);
  const salesEnd = isoFromLocal($("event-sales-end").value);
  if (salesStart) body.sales_start = salesStart;
  if (salesEnd) body.sales_end = salesEnd;
  try {
    const answer = await api("POST", `/organizations/${state.organization.id}/events`, { body });
    notify(`${answer.event.name} created as a draft: publish it to put it on sale.`, "info");
    $("event-form").reset();
    $("new-event").open = false;
    showPriceFields();
    await loadEvents();
    await openEvent(answer.event.id);
    $("event-title").focus();
  } catch (error) {
    notify(formProblems(error));
  }
}

/** Open one event: its facts, its counts and its live map. */
export async function openEvent(eventId) {
  const generation = ++eventGeneration;
  if (feedAbort) feedAbort.abort();
  feedAbort = new AbortController();
  const signal = feedAbort.signal;
  $("event").hidden = false;
  $("event-plan").setAttribute("aria-busy", "true");
  try {
    const event = (await api("GET", `/events/${eventId}`)).event;
    const feed = await api("GET", `/events/${eventId}/changes`); // the cursor first: nothing is missed
    const map = await api("GET", `/events/${eventId}/seats`);
    if (generation !== eventGeneration) return;
    state.event = event;
    showEvent();
    openSales(); // the Sales section (sales.js): report, orders, refunds, CSV, audit log
    const rows = new Map();
    const seats = map.seats.map((seat) => {
      if (!rows.has(seat.row)) rows.set(seat.row, rows.size);
      return { id: seat.id, label: seat.label, section: seat.section, row: seat.row, category: seat.category,
        accessible: seat.accessible, status: seat.status, x: seat.x ?? seat.number, y: seat.y ?? rows.get(seat.row) };
    });
    seatIndex = new Map(seats.map((seat, i) => [seat.id, i]));
    labelIndex = new Map(seats.map((seat, i) => [seat.label.toLowerCase(), i]));
    if (!plan) plan = new SeatPlan($("event-plan"), { label: "Seat map", selectable: true, onSelect: selectionChanged, announce });
    const venue = state.venues.find((item) => item.id === event.venue_id);
    const sections = new Set(seats.map((seat) => seat.section));
    const drawn = await plan.draw(seats, {
      focalPoint: venue && venue.layout.focal_point ? venue.layout.focal_point : null,
      sections: sections.size > 1 ? sectionBoxes(seats) : [],
    });
    $("event-plan").dataset.drawMs = String(Math.round(drawn.painted)); // measured by tests/browser/test_office.py
    const categories = categoriesOf(seats);
    renderLegend($("event-legend"), plan, categories, seats.some((seat) => seat.category === null), true);
    renderCounts();
    selectionChanged([]);
    renderEvents();
    follow(eventId, feed.cursor, generation, signal);
  } catch (error) {
    if (generation === eventGeneration) fail(error);
  } finally {
    $("event-plan").removeAttribute("aria-busy");
  }
}

/** Close the event panel (another organization chosen, or signed out). */
export function closeEvent() {
  eventGeneration += 1;
  if (feedAbort) feedAbort.abort();
  closeSales();
  state.event = null;
  $("event").hidden = true;
}

function showEvent() {
  const event = state.event;
  $("event-title").textContent = event.name;
  const facts = [STATUS_WORDS[event.status] || event.status, `starts ${when(event.starts_at)}`];
  if (event.sales_start || event.sales_end) {
    facts.push(`sales ${event.sales_start ? `from ${when(event.sales_start)}` : ""}${event.sales_end ? ` until ${when(event.sales_end)}` : ""}`);
  }
  const prices = event.categories.map((category) => `${category.name} ${money(cents(category.price), event.currency)}`);
  if (prices.length) facts.push(prices.join(", "));
  $("event-facts").textContent = facts.join(" · ");
  $("event-facts").dataset.status = event.status;
  // One action at a time: put it on sale (again), or close sales; a cancelled event has neither.
  $("publish").hidden = event.status === "on_sale" || event.status === "cancelled";
  $("publish").textContent = event.status === "closed" ? "Open sales again" : "Publish: put on sale";
  $("close-sales").hidden = event.status !== "on_sale";
}

function renderCounts() {
  const totals = { available: 0, locked: 0, booked: 0, blocked: 0 };
  for (const seat of plan.seats) totals[seat.status] = (totals[seat.status] || 0) + 1;
  $("counts").replaceChildren(...COUNTED.map(([status, words]) =>
    h("li", { dataset: { status } }, h("span", { className: `swatch is-${status}`, "aria-hidden": "true" }),
      h("strong", { className: "figure" }, count(totals[status])), ` ${words}`)));
}

let countsPending = false;
function countsLater() {
  if (countsPending) return;
  countsPending = true;
  requestAnimationFrame(() => { countsPending = false; renderCounts(); });
}

async function follow(eventId, cursor, generation, signal) {
  let failures = 0;
  while (generation === eventGeneration) {
    try {
      const feed = await api("GET", `/events/${eventId}/changes?since=${cursor}&wait=${FEED_WAIT_SECONDS}`, { signal });
      if (generation !== eventGeneration) return;
      failures = 0;
      for (const change of feed.changes) {
        if (seatIndex.has(change.seat_id)) plan.setStatus(seatIndex.get(change.seat_id), change.status);
      }
      if (feed.changes.length) { countsLater(); selectionChanged(plan.selection()); }
      cursor = feed.cursor;
    } catch (error) {
      if (generation !== eventGeneration || error.name === "AbortError") return;
      failures += 1;
      if (error instanceof ApiError && error.status === 400) { openEvent(eventId); return; } // a cursor the server forgot
      if (failures >= 3) fail(error);
      await sleep(Math.min(30000, 1000 * 2 ** Math.min(failures, 5)));
    }
  }
}

function selectionChanged(indexes) {
  const line = $("selection-line");
  const none = !indexes.length;
  $("block").disabled = $("unblock").disabled = $("clear-selection").disabled = none;
  if (none) { line.textContent = "No seats selected."; return; }
  const labels = indexes.slice(0, 8).map((i) => plan.seats[i].label);
  const more = indexes.length > 8 ? ` and ${count(indexes.length - 8)} more` : "";
  const blocked = indexes.filter((i) => plan.seats[i].status === "blocked").length;
  line.textContent = `${count(indexes.length)} selected: ${labels.join(", ")}${more}${blocked ? ` (${count(blocked)} blocked)` : ""}.`;
}

async function changeBlocks(action) {
  const indexes = plan.selection();
  if (!indexes.length) return;
  clearNotice();
  const seatIds = indexes.map((i) => plan.seats[i].id);
  const eventId = state.event.id;
  try {
    const answer = await api("POST", `/events/${eventId}/seats/${action}`, { body: { seat_ids: seatIds } });
    if (!state.event || state.event.id !== eventId) return;
    const done = action === "block" ? answer.blocked : answer.unblocked;
    const status = action === "block" ? "blocked" : "available";
    for (const id of done) if (seatIndex.has(id)) plan.setStatus(seatIndex.get(id), status);
    plan.clearSelection();
    renderCounts();
    const words = action === "block" ? "Blocked" : "Put back on sale";
    let text = `${words}: ${done.length ? done.map(labelOf).join(", ") : "no seats"}.`;
    if (action === "unblock" && done.length < seatIds.length) text += ` ${seatIds.length - done.length} of the seats were not blocked.`;
    notify(text, "info");
    announce(text);
  } catch (error) {
    if (error instanceof ApiError && error.code === "seats_unavailable" && error.details && error.details.unavailable) {
      const refused = error.details.unavailable.map(labelOf).join(", ");
      notify(`Nothing was blocked: ${refused} ${error.details.unavailable.length === 1 ? "is" : "are"} held, in an order or sold. Unselect ${error.details.unavailable.length === 1 ? "it" : "them"} and try again.`);
    } else {
      fail(error, labelOf);
    }
  }
}

async function setSales(action) {
  clearNotice();
  const eventId = state.event.id;
  try {
    const answer = await api("POST", `/events/${eventId}/${action}`);
    if (!state.event || state.event.id !== eventId) return;
    state.event = answer.event;
    showEvent();
    await loadEvents();
    notify(action === "publish" ? `${answer.event.name} is on sale.` : `Sales of ${answer.event.name} are closed.`, "info");
  } catch (error) {
    fail(error);
  }
}

function selectByLabel() {
  if (!plan || !plan.seats.length) return;
  const wanted = $("label-input").value.split(",").map((label) => label.trim()).filter(Boolean);
  const found = [];
  const unknown = [];
  for (const label of wanted) {
    const i = labelIndex.get(label.toLowerCase());
    if (i === undefined) unknown.push(label); else found.push(i);
  }
  plan.choose(found, "add");
  if (unknown.length) notify(`No seat is labelled ${unknown.join(", ")}. Labels are the row and the number (A12), after the section's name when there are several (Balcony B3).`);
  else { $("label-input").value = ""; announce(`${found.length} seats selected.`); }
}

export function initEvents() {
  $("event-venue").addEventListener("change", showPriceFields);
  $("event-form").addEventListener("submit", (event) => {
    event.preventDefault();
    busy([$("create-event")], createEvent);
  });
  $("publish").addEventListener("click", () => setSales("publish"));
  $("close-sales").addEventListener("click", () => setSales("close"));
  $("block").addEventListener("click", () => changeBlocks("block"));
  $("unblock").addEventListener("click", () => changeBlocks("unblock"));
  $("clear-selection").addEventListener("click", () => { plan.clearSelection(); announce("Selection cleared."); });
  $("label-form").addEventListener("submit", (event) => { event.preventDefault(); selectByLabel(); });
}
