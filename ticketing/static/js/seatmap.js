// The seat map: drawing it, the one function that changes a seat (setSeat), and moving through
// it with the keyboard.

import { cents, money } from "./format.js";
import { el, state } from "./state.js";

const STATUS_WORDS = { available: "available", locked: "held by someone else", booked: "sold" };
const MOVES = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End"];

let stamps = 0; // counts seat changes (see setSeat)
let changesPending = false;
const changeListeners = [];

/** A seat's state as an API answer gives it (its holder also learns locked_by_me and lock_expires_at). */
export function answered(raw) {
  return { status: raw.status, mine: raw.locked_by_me === true, expiresAt: raw.lock_expires_at || null };
}

/** A seat's state as the change feed gives it: the status only (the feed tells nobody who holds a seat). */
export function fed(change) {
  if (change.status === "locked") return { status: change.status };
  return { status: change.status, mine: false, expiresAt: null };
}

/** The stamp of the latest seat change: pass it as setSeat's `asked` for an answer requested now. */
export const currentStamp = () => stamps;

/**
 * The only way a seat's state changes: `change` holds any of {status, mine, expiresAt}; the seat is
 * repainted, and the summary and the basket follow once the current task is done. An answer to a
 * request made before the seat's latest change (`asked`, a stamp from currentStamp) is stale and
 * ignored, so a whole-map refresh racing a click keeps the click. Returns the seat, or null when
 * nothing changed (no such seat, or a stale answer).
 */
export function setSeat(seatId, change, asked = Infinity) {
  const seat = state.seats.get(seatId);
  if (!seat || seat.stamp > asked) return null;
  if (change.status !== undefined) seat.status = change.status;
  if (change.mine !== undefined) seat.mine = change.mine;
  if (change.expiresAt !== undefined) seat.expiresAt = change.expiresAt;
  seat.stamp = ++stamps;
  const node = seat.node;
  const words = seat.mine ? "held by you" : STATUS_WORDS[seat.status];
  const label = `Seat ${seat.label}, ${words}, ${money(cents(seat.price), state.event.currency)}`;
  // "busy" marks a request in flight for this seat (see holds.js): a repaint meanwhile keeps it.
  node.className = `seat ${seat.mine ? "mine" : seat.status}${node.classList.contains("busy") ? " busy" : ""}`;
  node.setAttribute("aria-label", label);
  node.title = label;
  node.setAttribute("aria-pressed", seat.mine ? "true" : "false");
  node.dataset.status = seat.mine ? "mine" : seat.status;
  if (!changesPending) {
    changesPending = true;
    queueMicrotask(seatsChanged);
  }
  return seat;
}

/** Call `listener()` after seats changed (once for a batch of changes). */
export function onSeatsChanged(listener) {
  changeListeners.push(listener);
}

function seatsChanged() {
  changesPending = false;
  summarise();
  for (const listener of changeListeners) listener();
}

/** Draw the whole map of the event on screen (state.event) from its seats, in row order. */
export function drawMap(seats) {
  state.seats = new Map();
  const fragment = document.createDocumentFragment();
  let rowNode = null;
  let rowName = null;
  let first = null;
  for (const raw of seats) {
    if (raw.row !== rowName) {
      rowName = raw.row;
      rowNode = document.createElement("div");
      rowNode.className = "row";
      rowNode.setAttribute("role", "row");
      rowNode.setAttribute("aria-label", `Row ${rowName}`);
      const name = document.createElement("span");
      name.className = "row-label";
      name.setAttribute("aria-hidden", "true");
      name.textContent = rowName;
      rowNode.appendChild(name);
      fragment.appendChild(rowNode);
    }
    const node = document.createElement("button");
    node.type = "button";
    node.setAttribute("role", "gridcell");
    node.tabIndex = -1;
    node.dataset.seatId = raw.id;
    node.textContent = raw.label;
    rowNode.appendChild(node);
    const seat = {
      id: raw.id, label: raw.label, row: raw.row, number: raw.number, price: raw.price,
      status: null, mine: false, expiresAt: null, stamp: 0, node,
    };
    state.seats.set(seat.id, seat);
    setSeat(seat.id, answered(raw));
    if (!first) first = seat;
  }
  el.map.replaceChildren(fragment);
  el.map.setAttribute("aria-busy", "false");
  if (!seats.length) {
    const empty = document.createElement("p");
    empty.className = "loading";
    empty.textContent = "This event has no seats.";
    el.map.appendChild(empty);
    seatsChanged(); // no setSeat ran: the summary and basket of the previous event go
  }
  state.focusedSeat = null;
  if (first) setFocusable(first);
  describePrices(seats);
  performance.mark("map-drawn", { detail: { seats: seats.length } }); // read by bench/browser.py
}

/** Replace the map with a sentence (no events, say). */
export function showInsteadOfMap(text) {
  el.map.replaceChildren(Object.assign(document.createElement("p"), { className: "loading", textContent: text }));
}

function describePrices(seats) {
  if (!seats.length) { el.priceNote.textContent = ""; return; }
  let low = Infinity;
  let high = -Infinity;
  for (const seat of seats) {
    const value = cents(seat.price);
    low = Math.min(low, value);
    high = Math.max(high, value);
  }
  const currency = state.event.currency;
  if (high === 0) el.priceNote.textContent = "Free seats";
  else if (low === high) el.priceNote.textContent = `Price: ${money(low, currency)} a seat`;
  else el.priceNote.textContent = `Prices: ${money(low, currency)} to ${money(high, currency)}`;
}

function summarise() {
  const counts = { available: 0, locked: 0, booked: 0 };
  for (const seat of state.seats.values()) counts[seat.status] += 1;
  el.summary.textContent =
    `${counts.available} available · ${counts.locked} held · ${counts.booked} sold · ${state.seats.size} seats`;
}

// Roving focus: one seat is in the tab order; arrow keys, Home and End move between seats.
function setFocusable(seat, focus = false) {
  if (state.focusedSeat && state.focusedSeat.node) state.focusedSeat.node.tabIndex = -1;
  state.focusedSeat = seat;
  seat.node.tabIndex = 0;
  if (focus) seat.node.focus();
}

function neighbour(node, key) {
  const row = node.parentElement;
  const inRow = Array.from(row.querySelectorAll(".seat"));
  const index = inRow.indexOf(node);
  if (key === "ArrowLeft") return inRow[index - 1];
  if (key === "ArrowRight") return inRow[index + 1];
  if (key === "Home") return inRow[0];
  if (key === "End") return inRow[inRow.length - 1];
  let other = key === "ArrowUp" ? row.previousElementSibling : row.nextElementSibling;
  while (other && !other.classList.contains("row")) {
    other = key === "ArrowUp" ? other.previousElementSibling : other.nextElementSibling;
  }
  if (!other) return null;
  const seats = other.querySelectorAll(".seat");
  return seats[Math.min(index, seats.length - 1)];
}

/** Listen to the map: the keyboard moves between seats; a click (or Enter, Space) calls `choose(seat)`. */
export function initSeatMap(choose) {
  el.map.addEventListener("keydown", (event) => {
    const node = event.target.closest(".seat");
    if (!node || !MOVES.includes(event.key)) return;
    const next = neighbour(node, event.key);
    event.preventDefault();
    if (next) setFocusable(state.seats.get(Number(next.dataset.seatId)), true);
  });
  el.map.addEventListener("click", (event) => {
    const node = event.target.closest(".seat");
    if (!node) return;
    const seat = state.seats.get(Number(node.dataset.seatId));
    setFocusable(seat);
    choose(seat);
  });
}
