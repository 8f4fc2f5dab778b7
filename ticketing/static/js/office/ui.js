// The back office's page furniture: its elements by id, the message line, the screen-reader status
// line and a tiny element builder.

import { plainWords } from "../errors.js";

/** The element with this id (looked up once). */
const cache = new Map();
export function $(id) {
  if (!cache.has(id)) cache.set(id, document.getElementById(id));
  return cache.get(id);
}

/** A new element: h("li", {className: "x", dataset: {id: 1}}, "text", child). */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

let noticeTimer = null;

/** Show a message; "info" ones go away by themselves, errors stay until dismissed or replaced. */
export function notify(text, kind = "error") {
  $("notice-text").textContent = text;
  $("notice").classList.toggle("info", kind === "info");
  $("notice").hidden = false;
  clearTimeout(noticeTimer);
  if (kind === "info") noticeTimer = setTimeout(() => { $("notice").hidden = true; }, 6000);
}

export function clearNotice() {
  $("notice").hidden = true;
}

/** Tell screen readers what just happened, without showing anything. */
export function announce(text) {
  $("status").textContent = text;
}

/** An error in plain words (a request the page abandoned is no error); `labelOf` names seats by id. */
export function fail(error, labelOf) {
  if (error && error.name === "AbortError") return;
  notify(plainWords(error, labelOf));
}

/** A datetime-local input's value as the API's UTC ISO time ("" stays null). */
export function isoFromLocal(value) {
  if (!value) return null;
  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? null : time.toISOString();
}

/** An ISO time in the reader's words. */
export const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");

/** A whole number with the reader's separators ("20,000"). */
export const count = (n) => new Intl.NumberFormat().format(n);

/** Run `work` with `buttons` disabled meanwhile. */
export async function busy(buttons, work) {
  for (const button of buttons) button.disabled = true;
  try {
    return await work();
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}
