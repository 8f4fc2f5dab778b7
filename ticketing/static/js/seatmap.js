// The seat map: drawing it, the one function that changes a seat (setSeat), and moving through
// it with the keyboard. Seats with a position (x, y: events made from a venue's layout) are drawn
// where the layout puts them, with their sections named, the stage, and a look per price category;
// seats without one (made by seed-seats) are drawn in rows.

import { cents, money } from "./format.js";
import { el, state } from "./state.js";

const STATUS_WORDS = {
  available: "available", locked: "held by someone else", booked: "sold", blocked: "not for sale",
};
// A look per price category (app.css: .seat[data-look]), said in words in the legend.
const LOOKS = ["purple", "teal, with a dot", "pink, with a bar", "brown, half filled", "olive", "grey, with a dot"];
// Room around the seats, in layout units: for the section and row names, more on the stage's side.
const PLAN_MARGIN = 2;
const STAGE_MARGIN = 3.5;
const MIN_UNIT = 4; // px per layout unit when zoomed out furthest
const MAX_UNIT = 60;
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
  const words = seat.mine ? "held by you" : STATUS_WORDS[seat.status] || seat.status;
  const label = `Seat ${seat.label}, ${words}, ${seat.priceText}${seat.extra}`;
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

/** Draw the whole map of the event on screen (state.event) from its seats. */
export function drawMap(seats) {
  performance.mark("map-drawing"); // the seats have arrived (bench/browser.py times the drawing from here)
  state.seats = new Map();
  const looks = categoryLooks(seats);
  const onPlan = seats.length > 0 && seats.every((raw) => raw.x !== null && raw.x !== undefined &&
    raw.y !== null && raw.y !== undefined);
  const prices = new Map(); // one formatted price per price, not one Intl call per seat
  const make = (raw) => {
    let priceText = prices.get(raw.price);
    if (priceText === undefined) {
      priceText = money(cents(raw.price), state.event.currency);
      prices.set(raw.price, priceText);
    }
    const node = document.createElement("button");
    node.type = "button";
    node.className = "seat";
    node.setAttribute("role", "gridcell");
    node.tabIndex = -1;
    node.dataset.seatId = raw.id;
    const look = raw.category ? looks.get(raw.category) : undefined;
    if (look !== undefined) node.dataset.look = look;
    if (raw.accessible) node.dataset.accessible = "";
    const extra = `${raw.category ? `, ${raw.category}` : ""}${raw.accessible ? ", wheelchair space" : ""}`;
    const seat = {
      id: raw.id, label: raw.label, row: raw.row, number: raw.number, price: raw.price, priceText, extra,
      section: raw.section || "", category: raw.category || null, accessible: raw.accessible === true,
      x: raw.x, y: raw.y, status: null, mine: false, expiresAt: null, stamp: 0, node,
    };
    state.seats.set(seat.id, seat);
    setSeat(seat.id, answered(raw));
    return seat;
  };
  const drawn = onPlan ? drawPlan(seats, make) : drawRows(seats, make);
  el.map.classList.toggle("on-plan", onPlan);
  el.map.replaceChildren(drawn.fragment);
  el.map.setAttribute("aria-busy", "false");
  const stage = document.getElementById("stage");
  if (stage) stage.hidden = onPlan || !seats.length; // a plan draws its own stage, where the layout says
  const zoom = document.getElementById("zoom");
  if (zoom) zoom.hidden = !onPlan;
  if (!seats.length) {
    const empty = document.createElement("p");
    empty.className = "loading";
    empty.textContent = "This event has no seats.";
    el.map.appendChild(empty);
    seatsChanged(); // no setSeat ran: the summary and basket of the previous event go
  }
  state.focusedSeat = null;
  if (drawn.first) setFocusable(drawn.first);
  describePrices(seats, looks);
  if (onPlan) showFirstSeats(drawn.first);
  performance.mark("map-drawn", { detail: { seats: seats.length } }); // read by bench/browser.py
  requestAnimationFrame(() => setTimeout(() => performance.mark("map-shown"))); // laid out and painted
}

/** Each category of the event (in the order the event lists them) -> its look (index into LOOKS). */
function categoryLooks(seats) {
  const looks = new Map();
  for (const category of state.event.categories || []) looks.set(category.name, looks.size % LOOKS.length);
  for (const seat of seats) {
    if (seat.category && !looks.has(seat.category)) looks.set(seat.category, looks.size % LOOKS.length);
  }
  return looks;
}

// Seats without positions: one line per row, in the order the API gives them.
function drawRows(seats, make) {
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
    const seat = make(raw);
    rowNode.appendChild(seat.node);
    if (!first) first = seat;
  }
  return { fragment, first };
}

// Seats with positions: absolutely placed, in px, in a box of the layout's size at `unit` px per layout
// unit (the CSS reads it as --u for sizes). Zooming scales that box (a transform: no seat is laid out
// again) inside a frame of the scaled size, which is what the map scrolls. A row is an element of its own
// (role "row") for screen readers.
function drawPlan(seats, make) {
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (const raw of seats) {
    minX = Math.min(minX, raw.x); maxX = Math.max(maxX, raw.x);
    minY = Math.min(minY, raw.y); maxY = Math.max(maxY, raw.y);
  }
  const focal = state.event.focal_point || null;
  const stage = stageSide({ minX, maxX, minY, maxY }, focal);
  const margin = (side) => (stage && stage.side === side ? STAGE_MARGIN : PLAN_MARGIN);
  const originX = margin("left") - minX;
  const originY = margin("top") - minY;
  const width = maxX - minX + margin("left") + margin("right");
  const height = maxY - minY + margin("top") + margin("bottom");
  const unit = fittingUnit(width);
  const frame = document.createElement("div");
  frame.className = "plan-frame";
  const plan = document.createElement("div");
  plan.className = "plan";
  plan.style.width = `${width * unit}px`;
  plan.style.height = `${height * unit}px`;
  plan.style.setProperty("--u", `${unit}px`); // for the names and the stage
  sizeSeats(unit);
  frame.appendChild(plan);
  planBox = { frame, plan, width, height, originX, originY, unit, scale: 1 };
  scalePlan(1);

  const sections = new Map(); // name -> {sum x, sum y, count, bounds, nearest distance to the focal point}
  const rows = []; // {name, minX, y, straight}: a straight row gets its name at its start
  let rowNode = null;
  let rowKey = null;
  let first = null;
  for (const raw of seats) {
    const key = `${raw.section}\u0000${raw.row}`;
    if (key !== rowKey) {
      rowKey = key;
      rowNode = document.createElement("div");
      rowNode.className = "plan-row";
      rowNode.setAttribute("role", "row");
      rowNode.setAttribute("aria-label", raw.section ? `${raw.section}, row ${raw.row}` : `Row ${raw.row}`);
      plan.appendChild(rowNode);
      rows.push({ name: raw.row, minX: raw.x, y: raw.y, straight: true });
    }
    const row = rows[rows.length - 1];
    row.minX = Math.min(row.minX, raw.x);
    if (raw.y !== row.y) row.straight = false;
    const seat = make(raw);
    seat.node.style.left = `${(raw.x + originX - 0.4) * unit}px`;
    seat.node.style.top = `${(raw.y + originY - 0.4) * unit}px`;
    rowNode.appendChild(seat.node);
    if (!first) first = seat;
    let section = sections.get(raw.section);
    if (!section) {
      section = {
        sumX: 0, sumY: 0, count: 0, minX: Infinity, maxX: -Infinity, minY: Infinity, maxY: -Infinity, nearest: Infinity,
      };
      sections.set(raw.section, section);
    }
    section.sumX += raw.x; section.sumY += raw.y; section.count += 1;
    section.minX = Math.min(section.minX, raw.x); section.maxX = Math.max(section.maxX, raw.x);
    section.minY = Math.min(section.minY, raw.y); section.maxY = Math.max(section.maxY, raw.y);
    if (focal) section.nearest = Math.min(section.nearest, Math.hypot(raw.x - focal.x, raw.y - focal.y));
  }
  const put = (node, x, y) => {
    node.style.left = `${(x + originX) * unit}px`;
    node.style.top = `${(y + originY) * unit}px`;
    plan.appendChild(node);
  };
  if (stage) {
    const node = document.createElement("div");
    node.className = `plan-stage ${stage.side}`;
    node.textContent = "Stage";
    node.setAttribute("aria-hidden", "true");
    node.style.setProperty("--length", stage.length);
    put(node, stage.x, stage.y);
  }
  for (const row of rows) {
    if (!row.straight) continue;
    const node = document.createElement("div");
    node.className = "row-name";
    node.textContent = row.name;
    node.setAttribute("aria-hidden", "true"); // the row element says it
    put(node, row.minX - 1.1, row.y);
  }
  for (const [name, section] of sections) {
    if (!name) continue;
    const node = document.createElement("div");
    node.className = "section-label";
    node.textContent = name;
    node.setAttribute("aria-hidden", "true"); // each row says its section to screen readers
    const [x, y] = labelPlace(section, focal, stage ? stage.side : null);
    put(node, x, y);
  }
  const fragment = document.createDocumentFragment();
  fragment.appendChild(frame);
  return { fragment, first };
}

// The seats' size as one constructed style sheet rule (allowed by the page's policy, unlike a <style>):
// with no var() in a seat's style, Chromium computes one style for all seats alike instead of one each.
const seatSizeSheet = new CSSStyleSheet();
document.adoptedStyleSheets = [...document.adoptedStyleSheets, seatSizeSheet];

function sizeSeats(unit) {
  const side = Math.round(unit * 0.8 * 10) / 10;
  const border = Math.max(1, Math.min(2, Math.round(unit * 0.09)));
  seatSizeSheet.replaceSync(`.plan .seat { width: ${side}px; height: ${side}px; border-width: ${border}px; }`);
}

let planBox = null; // the plan on screen: {frame, plan, width, height, originX, originY, unit, scale}

function scalePlan(scale) {
  const { frame, plan, width, height, unit } = planBox;
  planBox.scale = scale;
  plan.style.transform = scale === 1 ? "" : `scale(${scale})`;
  frame.style.width = `${width * unit * scale}px`;
  frame.style.height = `${height * unit * scale}px`;
  plan.classList.toggle("small", unit * scale < 12); // row names would be larger than the rows
}

/** Layout units -> px: the whole width of the layout when it fits, else seats a finger or pointer can hit. */
function fittingUnit(width) {
  const room = Math.max(200, el.map.clientWidth - 12);
  const smallest = matchMedia("(pointer: coarse)").matches ? 24 : 17;
  return Math.max(smallest, Math.min(34, Math.floor(room / width)));
}

/**
 * The stage goes on the side of the seats nearest the focal point (where the layout puts the best
 * seats), when one side is clearly nearest; a focal point in the middle (an arena) draws none.
 */
function stageSide(box, focal) {
  if (!focal) return null;
  const sides = [
    { side: "top", distance: focal.y - box.minY },
    { side: "bottom", distance: box.maxY - focal.y },
    { side: "left", distance: focal.x - box.minX },
    { side: "right", distance: box.maxX - focal.x },
  ].sort((a, b) => a.distance - b.distance);
  if (sides[0].distance > 0.6 * sides[1].distance) return null;
  const across = sides[0].side === "top" || sides[0].side === "bottom";
  const span = across ? box.maxX - box.minX : box.maxY - box.minY;
  const length = Math.max(4, Math.min(span, Math.max(8, span * 0.6)));
  const offset = 2.5; // the section names go between the stage and the first row
  if (sides[0].side === "top") return { side: "top", x: focal.x, y: box.minY - offset, length };
  if (sides[0].side === "bottom") return { side: "bottom", x: focal.x, y: box.maxY + offset, length };
  if (sides[0].side === "left") return { side: "left", x: box.minX - offset, y: focal.y, length };
  return { side: "right", x: box.maxX + offset, y: focal.y, length };
}

/**
 * Where a section's name goes: beside its seats on the side facing the focal point when that lies
 * outside the section (a balcony, a ring around a floor), else above the section (below it when the
 * stage is above).
 */
function labelPlace(section, focal, stageSideName) {
  const centreX = section.sumX / section.count;
  const centreY = section.sumY / section.count;
  const inside = focal && focal.x >= section.minX && focal.x <= section.maxX &&
    focal.y >= section.minY && focal.y <= section.maxY;
  if (focal && !inside) {
    // On the line from the focal point to the section's centre, just before its nearest seat.
    const dx = centreX - focal.x;
    const dy = centreY - focal.y;
    const length = Math.hypot(dx, dy) || 1;
    const reach = Math.max(0, section.nearest - 1.6);
    return [focal.x + (dx / length) * reach, focal.y + (dy / length) * reach];
  }
  if (stageSideName === "bottom") return [centreX, section.maxY + 1.1];
  return [centreX, section.minY - 1.1];
}

/**
 * A plan larger than its box opens on the focal point (the best seats): centred on it across, and
 * from the top of the plan down when that shows it, else centred on it (an arena's floor).
 */
function showFirstSeats(first) {
  if (!first || !planBox) return;
  const box = el.map;
  if (box.scrollWidth <= box.clientWidth && box.scrollHeight <= box.clientHeight) return;
  const unit = planBox.unit;
  const focal = state.event.focal_point;
  const atX = focal ? (focal.x + planBox.originX) * unit : box.scrollWidth / 2;
  const atY = focal ? (focal.y + planBox.originY) * unit : 0;
  box.scrollLeft = Math.max(0, atX - box.clientWidth / 2);
  box.scrollTop = atY < box.clientHeight * 0.75 ? 0 : atY - box.clientHeight / 2;
}

/** Zoom the plan by `factor` (the row drawing has a fixed size), keeping the middle of the view. */
export function zoomPlan(factor) {
  if (!planBox || !planBox.frame.isConnected) return;
  const box = el.map;
  const current = planBox.unit * planBox.scale;
  const next = Math.max(MIN_UNIT, Math.min(MAX_UNIT, current * factor));
  const middleX = (box.scrollLeft + box.clientWidth / 2) / current;
  const middleY = (box.scrollTop + box.clientHeight / 2) / current;
  scalePlan(next / planBox.unit);
  box.scrollLeft = middleX * next - box.clientWidth / 2;
  box.scrollTop = middleY * next - box.clientHeight / 2;
}

/** Replace the map with a sentence (no events, say). */
export function showInsteadOfMap(text) {
  el.map.replaceChildren(Object.assign(document.createElement("p"), { className: "loading", textContent: text }));
}

// The price line: one price or a range; with price categories, a legend entry per category instead.
function describePrices(seats, looks) {
  describeCategories(seats, looks);
  if (!seats.length || looks.size) { el.priceNote.textContent = ""; return; }
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

function describeCategories(seats, looks) {
  const list = document.getElementById("categories");
  if (!list) return;
  const currency = state.event.currency;
  const items = [];
  const entry = (swatchClass, look, text) => {
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = `swatch ${swatchClass}`;
    if (look !== undefined) swatch.dataset.look = look;
    swatch.setAttribute("aria-hidden", "true");
    item.append(swatch, text);
    items.push(item);
  };
  if (looks.size) {
    for (const [name, look] of looks) {
      const known = (state.event.categories || []).find((category) => category.name === name);
      const price = known ? money(cents(known.price), currency) : null;
      entry("available category", look, `${name}${price ? ` ${price}` : ""} (${LOOKS[look]})`);
    }
    let low = Infinity;
    let high = -Infinity;
    for (const seat of seats) {
      if (seat.category) continue;
      const value = cents(seat.price);
      low = Math.min(low, value);
      high = Math.max(high, value);
    }
    if (high >= low) {
      const price = low === high ? money(low, currency) : `${money(low, currency)} to ${money(high, currency)}`;
      entry("available", undefined, `Other seats ${price} (green outline)`);
    }
  }
  if (seats.some((seat) => seat.accessible)) entry("wheelchair", undefined, "Wheelchair space");
  if (seats.some((seat) => seat.status === "blocked")) entry("blocked", undefined, "Not for sale");
  list.replaceChildren(...items);
  list.hidden = !items.length;
  const plain = document.getElementById("legend-available");
  if (plain) plain.hidden = looks.size > 0; // the categories' entries say what a free seat looks like
  const caption = document.getElementById("categories-caption");
  if (caption) caption.hidden = looks.size === 0;
}

function summarise() {
  const counts = { available: 0, locked: 0, booked: 0, blocked: 0 };
  for (const seat of state.seats.values()) counts[seat.status] = (counts[seat.status] || 0) + 1;
  const blocked = counts.blocked ? ` · ${counts.blocked} not for sale` : "";
  el.summary.textContent = `${counts.available} available · ${counts.locked} held · ${counts.booked} sold` +
    `${blocked} · ${state.seats.size} seats`;
}

// Roving focus: one seat is in the tab order; arrow keys, Home and End move between seats.
function setFocusable(seat, focus = false) {
  if (state.focusedSeat && state.focusedSeat.node) state.focusedSeat.node.tabIndex = -1;
  state.focusedSeat = seat;
  seat.node.tabIndex = 0;
  if (focus) seat.node.focus();
}

function neighbour(node, key) {
  if (!node.parentElement.classList.contains("row")) return neighbourOnPlan(node, key);
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

// On a plan: Home and End go to the ends of the seat's row; an arrow to the nearest seat that way
// (a seat straight ahead counts as nearer than one at an angle).
function neighbourOnPlan(node, key) {
  const here = state.seats.get(Number(node.dataset.seatId));
  if (key === "Home" || key === "End") {
    const inRow = node.parentElement.querySelectorAll(".seat");
    return key === "Home" ? inRow[0] : inRow[inRow.length - 1];
  }
  const [ahead, aside] = {
    ArrowRight: [(s) => s.x - here.x, (s) => s.y - here.y],
    ArrowLeft: [(s) => here.x - s.x, (s) => s.y - here.y],
    ArrowDown: [(s) => s.y - here.y, (s) => s.x - here.x],
    ArrowUp: [(s) => here.y - s.y, (s) => s.x - here.x],
  }[key];
  let best = null;
  let bestScore = Infinity;
  for (const seat of state.seats.values()) {
    const forward = ahead(seat);
    if (forward < 0.05) continue;
    const sideways = Math.abs(aside(seat));
    if (sideways > 2 * forward + 0.5) continue;
    const score = forward + 3 * sideways;
    if (score < bestScore) { bestScore = score; best = seat; }
  }
  return best ? best.node : null;
}

/** Listen to the map: the keyboard moves between seats; a click (or Enter, Space) calls `choose(seat)`. */
export function initSeatMap(choose) {
  const zoomIn = document.getElementById("zoom-in");
  const zoomOut = document.getElementById("zoom-out");
  if (zoomIn) zoomIn.addEventListener("click", () => zoomPlan(1.25));
  if (zoomOut) zoomOut.addEventListener("click", () => zoomPlan(0.8));
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
