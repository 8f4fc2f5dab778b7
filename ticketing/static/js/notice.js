// The message line at the top (errors and news) and the screen-reader status line.

import { plainWords } from "./errors.js";
import { el, labelOf } from "./state.js";

let noticeTimer = null;

/** Show a message; "info" ones go away by themselves, errors stay until dismissed or replaced. */
export function notify(text, kind = "error") {
  el.noticeText.textContent = text;
  el.notice.classList.toggle("info", kind === "info");
  el.notice.hidden = false;
  clearTimeout(noticeTimer);
  if (kind === "info") noticeTimer = setTimeout(() => { el.notice.hidden = true; }, 6000);
}

/** Hide the message. */
export function clearNotice() {
  el.notice.hidden = true;
}

/** Tell screen readers what just happened, without showing anything. */
export function announce(text) {
  el.status.textContent = text;
}

/** Show an error in plain words (a request the page itself abandoned is no error). */
export function fail(error) {
  if (error && error.name === "AbortError") return;
  notify(plainWords(error, labelOf));
}
