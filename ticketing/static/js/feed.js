// Following an event's change feed: a long poll that colours the seats others hold, buy or let go.

import { api, ApiError } from "./api.js";
import { holdsLost } from "./checkout.js";
import { clearNotice, fail } from "./notice.js";
import { fed, setSeat } from "./seatmap.js";
import { el, state } from "./state.js";

const FEED_WAIT_SECONDS = 20;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Apply the event's changes after `cursor` until the page moves on (`generation`) or `signal` aborts.
 * `startOver()` is called when the server no longer knows the cursor (say, a restored database).
 */
export async function follow(eventId, cursor, generation, signal, startOver) {
  let failures = 0;
  while (generation === state.generation) {
    try {
      const feed = await api("GET", `/events/${eventId}/changes?since=${cursor}&wait=${FEED_WAIT_SECONDS}`,
        { auth: false, signal });
      if (generation !== state.generation) return;
      failures = 0;
      if (el.noticeText.dataset.feed === "down") { clearNotice(); el.noticeText.dataset.feed = ""; }
      const lost = [];
      for (const change of feed.changes) {
        const seat = state.seats.get(change.seat_id);
        if (!seat) continue;
        const mineRanOut = seat.mine && change.status === "available"; // my hold or my checkout ran out
        // A hold of mine that ran out and was taken by someone else reads "locked": tick() notices the time.
        setSeat(seat.id, fed(change));
        if (mineRanOut) lost.push(seat);
      }
      cursor = feed.cursor;
      if (lost.length) holdsLost(lost);
    } catch (error) {
      if (generation !== state.generation || error.name === "AbortError") return;
      failures += 1;
      if (error instanceof ApiError && error.status === 400) {
        startOver();
        return;
      }
      if (failures >= 3) {
        fail(error);
        el.noticeText.dataset.feed = "down";
      }
      await sleep(Math.min(30000, 1000 * 2 ** Math.min(failures, 5)));
    }
  }
}
