// "Find me N seats": asks the server for the best free seats together (POST /events/<id>/best-available)
// and shows the block it holds for the buyer on the map, like seats held by a click.

import { api, hasTokens } from "./api.js";
import { announce, clearNotice, fail, notify } from "./notice.js";
import { answered, setSeat } from "./seatmap.js";
import { el, state } from "./state.js";

const $ = (id) => document.getElementById(id);
const form = $("best");
const count = $("best-count");
const category = $("best-category");
const categoryField = $("best-category-field");
const accessible = $("best-accessible");
const find = $("best-find");

function wordCount() {
  const n = Number(count.value);
  find.textContent = Number.isInteger(n) && n >= 1 ? `Find me ${n} seat${n === 1 ? "" : "s"}` : "Find me seats";
  accessible.max = String(Math.max(0, Number.isInteger(n) ? n : 0));
}

/** The event's price categories as choices ("Any" first); hidden when it has none. */
export function showCategories(event) {
  const categories = (event && event.categories) || [];
  category.replaceChildren(new Option("Any", ""));
  for (const item of categories) category.appendChild(new Option(`${item.name} (${item.price})`, item.name));
  categoryField.hidden = categories.length === 0;
}

async function findSeats(submitted) {
  submitted.preventDefault();
  if (!state.event) return;
  if (!hasTokens()) {
    notify("Sign in or create an account to hold seats.");
    el.email.focus();
    return;
  }
  const body = { count: Number(count.value), accessible: Number(accessible.value || 0) };
  if (category.value) body.category = category.value;
  const generation = state.generation;
  find.disabled = true;
  clearNotice();
  try {
    const answer = await api("POST", `/events/${state.event.id}/best-available`, { body });
    if (generation !== state.generation) return;
    for (const seat of answer.seats) setSeat(seat.id, answered(seat));
    const labels = answer.seats.map((seat) => seat.label);
    const first = state.seats.get(answer.seats[0].id);
    if (first && first.node) first.node.scrollIntoView({ block: "nearest", inline: "nearest" });
    const sentence = `${labels.length === 1 ? "Seat" : "Seats"} ${labels.join(", ")} ${labels.length === 1 ? "is" : "are"} held for you.`;
    notify(sentence, "info");
    announce(sentence);
  } catch (error) {
    if (generation === state.generation) fail(error);
  } finally {
    find.disabled = false;
  }
}

/** Wire the form. */
export function initBest() {
  count.addEventListener("input", wordCount);
  form.addEventListener("submit", findSeats);
  wordCount();
}
