// Holding a seat and letting it go (a click on the map), and asking the server about one seat again.

import { api, ApiError, hasTokens } from "./api.js";
import { announce, clearNotice, fail, notify } from "./notice.js";
import { answered, currentStamp, setSeat } from "./seatmap.js";
import { el, state } from "./state.js";

// Refusals after which the map is out of date for this seat: ask for its state.
const SEAT_MOVED_ON = ["seat_locked", "seat_booked", "lock_expired", "seat_not_locked"];

/** Hold a free seat, or let go of one of mine. */
export async function toggleSeat(seat) {
  if (!hasTokens()) {
    notify("Sign in or create an account to hold seats.");
    el.email.focus();
    return;
  }
  if (seat.node.classList.contains("busy")) return;
  const generation = state.generation;
  seat.node.classList.add("busy");
  clearNotice();
  try {
    const releasing = seat.mine;
    const answer = await api(releasing ? "DELETE" : "POST", `/seats/${seat.id}/lock`);
    if (generation !== state.generation) return;
    setSeat(seat.id, answered(answer.seat));
    announce(releasing ? `Seat ${seat.label} released.` : `Seat ${seat.label} is held for you.`);
  } catch (error) {
    if (generation !== state.generation) return;
    fail(error);
    if (error instanceof ApiError && SEAT_MOVED_ON.includes(error.code)) refreshSeat(seat.id);
  } finally {
    seat.node.classList.remove("busy");
  }
}

/** Ask the server for one seat's state; a change made here meanwhile is newer and stays. */
export async function refreshSeat(seatId) {
  const asked = currentStamp();
  try {
    const answer = await api("GET", `/seats/${seatId}`);
    setSeat(answer.seat.id, answered(answer.seat), asked);
  } catch (error) {
    if (error.name !== "AbortError") console.warn("seat refresh failed", error);
  }
}
