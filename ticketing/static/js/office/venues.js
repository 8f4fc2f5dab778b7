// Venues: the organization's list, and a new one from a layout (a file or pasted JSON), previewed
// as the server will lay it out; the server's problems are listed by their path, in words.

import { api, ApiError } from "../api.js";
import { plainWords } from "../errors.js";
import { categoriesOf, layOut, placeOf, rowOfPath } from "./layout.js";
import { SeatPlan } from "./plan.js";
import { $, announce, busy, clearNotice, count, fail, h, notify } from "./ui.js";
import { state } from "./state.js";

let plan = null;
let previewed = null; // {text, layout} of the preview on screen
let fromFile = null; // {name, text} of a layout file too big to show in the text box
const SHOWN_BYTES = 200_000; // a bigger file (the arena's is 1 MB) is kept aside: a huge text box is slow to draw
let onVenuesChanged = () => {};

export async function loadVenues() {
  const generation = state.generation;
  try {
    const answer = await api("GET", `/organizations/${state.organization.id}/venues`);
    if (generation !== state.generation) return;
    state.venues = answer.venues;
  } catch (error) {
    state.venues = [];
    fail(error);
  }
  renderVenues();
  onVenuesChanged();
}

function renderVenues() {
  const list = $("venue-list");
  if (!state.venues.length) {
    list.replaceChildren(h("li", { className: "muted" }, "No venues yet: add one from a layout below."));
    return;
  }
  list.replaceChildren(...state.venues.map((venue) =>
    h("li", { dataset: { venueId: venue.id } }, h("strong", {}, venue.name), ` · ${count(venue.seat_count)} seats`)));
}

/** Read the layout text: the parsed layout, or null after saying what is wrong with it. */
function layoutText() {
  return fromFile && !$("layout-text").value.trim() ? fromFile.text : $("layout-text").value;
}

function parsedLayout() {
  const text = layoutText().trim();
  if (!text) {
    showProblems([["layout", "Choose a layout file, or paste the layout's JSON."]]);
    return null;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    showProblems([["layout", `This is not valid JSON: ${error.message}.`]]);
    return null;
  }
}

/** Draw the layout (timed: the figure is shown beside the preview and kept in data-draw-ms). */
async function preview() {
  const started = performance.now();
  hideProblems();
  const layout = parsedLayout();
  if (!layout) return null;
  const text = layoutText();
  const laid = layOut(layout);
  $("preview").hidden = false;
  if (!plan) plan = new SeatPlan($("preview-plan"), { label: "Preview of the layout", announce });
  const drawn = await plan.draw(laid.seats, { focalPoint: laid.focalPoint, sections: laid.sections });
  const total = performance.now() - started;
  previewed = { text, layout, laid };
  const categories = categoriesOf(laid.seats);
  const accessible = laid.seats.filter((seat) => seat.accessible).length;
  const blocked = laid.seats.filter((seat) => seat.status === "blocked").length;
  const uncategorised = laid.seats.filter((seat) => seat.category === null).length;
  const facts = [`${count(laid.seats.length)} seats`, `${laid.sections.length || 1} section${laid.sections.length > 1 ? "s" : ""}`];
  facts.push(categories.length ? `categories ${categories.join(", ")}` : "no categories");
  if (uncategorised && categories.length) facts.push(`${count(uncategorised)} seats without a category`);
  facts.push(`${accessible} wheelchair places`, `${blocked} blocked`);
  $("preview-summary").textContent = `${facts.join(" · ")}. Drawn in ${Math.round(drawn.painted)} ms.`;
  $("preview-summary").dataset.drawMs = String(Math.round(drawn.painted));
  $("preview-summary").dataset.totalMs = String(Math.round(total));
  $("preview-summary").dataset.buildMs = String(Math.round(drawn.built));
  if (laid.skipped) {
    $("preview-summary").append(" Some parts could not be drawn: create the venue to see what is wrong with them.");
  }
  renderLegend($("preview-legend"), plan, categories, uncategorised > 0, false);
  announce(`Preview drawn: ${facts.join(", ")}.`);
  return previewed;
}

/** A legend: category colours, then shapes and marks. `live` adds held and sold. */
export function renderLegend(list, seatPlan, categories, uncategorised, live) {
  const item = (swatchClass, words) => h("li", {}, h("span", { className: `swatch ${swatchClass}`, "aria-hidden": "true" }), words);
  const items = categories.map((category) => item(seatPlan.categoryClass(category), category));
  if (uncategorised) items.push(item("kn", "No category"));
  items.push(item("accessible", "Wheelchair place (square)"));
  if (live) items.push(item("is-locked", "Held"), item("is-booked", "Sold"));
  items.push(item("is-blocked", "Blocked (not for sale)"), item("sel", "Selected"), item("focal", "Focal point (best seats)"));
  list.replaceChildren(...items);
}

function hideProblems() {
  $("layout-problems").hidden = true;
  $("problem-list").replaceChildren();
  if (plan) plan.markProblems(() => false);
}

/** List problems: [[path, sentence], ...]; seats of the rows named are marked on the preview. */
function showProblems(problems, layout = null) {
  $("problem-list").replaceChildren(...problems.map(([path, sentence]) => {
    const where = path === "layout" ? "The layout" : path === "name" ? "The venue's name" : placeOf(layout, path);
    const item = h("li", { dataset: { path } }, h("strong", {}, `${where}: `), sentence, " ");
    if (path !== "layout" && path !== "name") item.append(h("code", {}, path));
    return item;
  }));
  $("layout-problems").hidden = false;
  $("problems-marked").hidden = true;
  $("layout-problems").focus();
  if (plan && layout && previewed && previewed.layout === layout) {
    const places = problems.map(([path]) => rowOfPath(path)).filter(Boolean);
    plan.markProblems((seat) => places.some((place) => place.sectionIndex === seat.sectionIndex &&
      (place.rowIndex === null || place.rowIndex === seat.rowIndex)));
    $("problems-marked").hidden = !places.length;
  }
}

async function createVenue() {
  clearNotice();
  const name = $("venue-name").value.trim();
  if (!name) { notify("Give the venue a name."); $("venue-name").focus(); return; }
  const current = previewed && previewed.text === layoutText() ? previewed : await preview();
  if (!current) return;
  try {
    const answer = await api("POST", `/organizations/${state.organization.id}/venues`, { body: { name, layout: current.layout } });
    hideProblems();
    notify(`Venue ${answer.venue.name} created with ${count(answer.venue.seat_count)} seats.`, "info");
    $("venue-name").value = "";
    $("layout-text").value = "";
    $("layout-text").placeholder = "";
    $("layout-file").value = "";
    fromFile = previewed = null;
    $("preview").hidden = true;
    $("new-venue").open = false;
    await loadVenues();
    $("event-venue").value = String(answer.venue.id);
    $("event-venue").dispatchEvent(new Event("change"));
  } catch (error) {
    if (error instanceof ApiError && error.code === "validation_error" && error.details) {
      showProblems(Object.entries(error.details).map(([path, list]) => [path, list.join(" ")]), current.layout);
      announce("The server refused the layout; its problems are listed.");
    } else {
      notify(plainWords(error));
    }
  }
}

export function initVenues(venuesChanged) {
  onVenuesChanged = venuesChanged;
  $("layout-file").addEventListener("change", async () => {
    const file = $("layout-file").files[0];
    if (!file) return;
    const text = await file.text();
    fromFile = text.length > SHOWN_BYTES ? { name: file.name, text } : null;
    $("layout-text").value = fromFile ? "" : text;
    $("layout-text").placeholder = fromFile
      ? `${file.name} (${count(Math.round(text.length / 1024))} KB) is loaded from the file. Paste JSON here to use that instead.`
      : "";
    if (!$("venue-name").value.trim()) $("venue-name").value = file.name.replace(/\.json$/i, "");
    await preview();
  });
  $("preview-layout").addEventListener("click", () => busy([$("preview-layout")], preview));
  $("venue-form").addEventListener("submit", (event) => {
    event.preventDefault();
    busy([$("create-venue"), $("preview-layout")], createVenue);
  });
}
