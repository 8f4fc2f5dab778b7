// Every error code the API can answer, in plain words: ONE list. tests/unit/test_page_script.py
// checks its codes against the server's (ticketing/errors.py), so a new server error needs a sentence here.

import { ApiError } from "./api.js";

export const MESSAGES = Object.freeze({
  // The page's own code: the request never reached the server.
  network: "We can't reach the box office right now. Check your connection; we'll keep trying.",
  // Generic answers, for requests the page should not be making.
  bad_request: "The box office could not handle this request. Please reload the page and try again.",
  error: "The box office could not handle this request. Please reload the page and try again.",
  method_not_allowed: "The box office could not handle this request. Please reload the page and try again.",
  unsupported_media_type: "The box office could not handle this request. Please reload the page and try again.",
  payload_too_large: "That was too much to send at once. Please pick fewer seats and try again.",
  uri_too_long: "That web address is too long for the box office. Please go back to the box office page and try again.",
  headers_too_large: "Your browser sent more than the box office accepts. Please clear this site's cookies and reload the page.",
  not_found: "We can't find this any more. Please reload the page.",
  conflict: "This changed in the meantime. Please reload the page and try again.",
  internal_error: "Something went wrong on our side. Please try again.",
  validation_error: "Please check what you entered.",
  rate_limited: "Too many attempts in a short time.",
  // Accounts.
  unauthorized: "Please sign in first.",
  invalid_credentials: "That email and password don't match an account. Check them, or create an account.",
  email_taken: "There is already an account with this email. Sign in instead.",
  forbidden: "You are not allowed to do that.",
  // Events and seats.
  event_not_found: "This event is no longer on sale.",
  seat_not_found: "This seat no longer exists.",
  seat_locked: "Someone else is holding this seat right now. Pick another one, or wait: it frees up if they don't buy it.",
  seat_booked: "This seat has already been sold.",
  seat_not_locked: "You are not holding this seat any more.",
  lock_expired: "Your hold on this seat ran out.",
  hold_limit_reached: "You are holding as many seats as one person may.",
  seat_in_order: "This seat is in your checkout. Pay for it or cancel the order to change it.",
  seats_unavailable: "Some of your seats are no longer available. Pick other seats and try again.",
  seat_blocked: "This seat is not for sale. Pick another one.",
  event_not_on_sale: "This event is not on sale right now.",
  no_seats_available: "There aren't that many free seats together right now. Try fewer seats, another category, or pick seats on the map.",
  orphan_seat: "This choice would leave a single seat on its own, which nobody could sit in with a friend. Add that seat or pick seats next to each other.",
  // Organizers: organizations, members, venues, events.
  user_not_found: "There is no account with this email. Ask the person to create an account first.",
  organization_not_found: "We can't find this organization.",
  member_not_found: "This person is not a member of the organization.",
  venue_not_found: "We can't find this venue.",
  last_owner: "An organization needs at least one owner. Make someone else an owner first.",
  event_cancelled: "This event is cancelled and can no longer be changed.",
  // Orders and payments.
  order_not_found: "We can't find this order any more.",
  order_expired: "Your checkout ran out of time, so its seats were released. Pick your seats again.",
  order_not_payable: "This order can no longer be paid.",
  order_not_cancellable: "This order can no longer be cancelled.",
  payment_declined: "Your card was declined. Nothing was charged, and the seats were released: you can hold them again to pay with another card.",
  payment_gateway_error: "The payment service had a problem and nothing was charged. Your seats are still held: please try again.",
  payment_in_progress: "A payment for this order is already being processed. Wait a moment, then check your order.",
  payment_required: "This seat has a price: check out to buy it.",
  order_not_refundable: "This order can no longer be refunded here.",
  ticket_not_refundable: "This ticket cannot be refunded: it is void already or was used at the door.",
  refund_in_progress: "A refund of this order is already being processed. Wait a moment, then check your order.",
  // Tickets.
  ticket_not_found: "We can't find a ticket with this code.",
  // The door.
  already_checked_in: "This ticket has already been used to get in.",
  ticket_void: "This ticket is void: it was refunded or the event was cancelled.",
  not_checked_in: "This ticket is not inside, so it cannot go out.",
  // The service under load or without its database.
  busy: "The box office is very busy at the moment. Please try again in a few seconds.",
  database_unavailable: "The box office is briefly unavailable. Please try again in a moment.",
});

const FIELD_NAMES = { email: "Email", password: "Password", name: "Name", seat_ids: "Seats", payment_token: "Card" };

/** What went wrong, in a sentence for the person at the page; `labelOf(seatId)` names seats. */
export function plainWords(error, labelOf = (seatId) => `#${seatId}`) {
  if (!(error instanceof ApiError)) return "Something went wrong on this page. Please reload it.";
  const details = error.details;
  if (error.code === "validation_error" && details) {
    const problems = Object.entries(details).map(
      ([field, list]) => `${FIELD_NAMES[field] || field}: ${list.join(" ").replace(/\.$/, "")}.`);
    return `${MESSAGES.validation_error} ${problems.join(" ")}`;
  }
  if (error.code === "rate_limited" && error.retryAfter) {
    return `${MESSAGES.rate_limited} Please wait ${error.retryAfter} seconds and try again.`;
  }
  if (error.code === "seats_unavailable" && details && details.unavailable) {
    const labels = details.unavailable.map(labelOf).join(", ");
    return `Some of your seats are no longer available: ${labels}. Pick other seats and try again.`;
  }
  if (error.code === "orphan_seat" && details && details.orphans) {
    const labels = details.orphans.map(labelOf);
    const alone = labels.length === 1 ? `Seat ${labels[0]} would be left on its own` : `Seats ${labels.join(", ")} would each be left on their own`;
    return `${alone} between taken seats, and this event does not sell seats that way. Add ${labels.length === 1 ? "it" : "them"} to your seats, or pick seats next to each other.`;
  }
  if (error.code === "hold_limit_reached") return `${MESSAGES.hold_limit_reached} ${error.message}`; // it says how many
  if (Object.hasOwn(MESSAGES, error.code)) return MESSAGES[error.code];
  // A code this page does not know yet (a newer server): its own sentence, unless it is a failure of ours.
  return error.status >= 500 ? MESSAGES.internal_error : error.message;
}
