// What the page knows, shared by its modules, and the page's elements by name.

const $ = (id) => document.getElementById(id);

export const el = {
  eventSelect: $("event-select"), summary: $("event-summary"), priceNote: $("price-note"), map: $("map"),
  signedOut: $("signed-out"), signedIn: $("signed-in"), who: $("who"), authForm: $("auth-form"),
  email: $("email"), password: $("password"), signIn: $("sign-in"), register: $("register"), signOut: $("sign-out"),
  notice: $("notice"), noticeText: $("notice-text"), noticeClose: $("notice-close"), status: $("status"),
  held: $("held"), basketEmpty: $("basket-empty"), basketTotal: $("basket-total"), checkout: $("checkout"),
  order: $("order"), orderSummary: $("order-summary"), orderDeadline: $("order-deadline"), pay: $("pay"),
  cancelOrder: $("cancel-order"), cards: $("cards"), tickets: $("tickets"), ticketList: $("ticket-list"),
  ticketsTitle: $("tickets-title"), retry: $("retry"), retrySummary: $("retry-summary"), retryOrder: $("retry-order"),
};

export const state = {
  user: null,
  event: null, // {id, name, currency, ...}
  seats: new Map(), // id -> {id, label, row, number, price, status, mine, expiresAt, stamp, node}; see setSeat
  generation: 0, // bumped on every event switch: stale loops and answers stop
  order: null, // the pending order of this event, if any
  retry: null, // {eventId, seatIds, labels} of an order whose card was declined: offered again in one click
  focusedSeat: null,
  feedAbort: null, // aborts the held change-feed request of the event on screen
};

/** A seat's label for messages, even for a seat that is not on the map (any more). */
export function labelOf(seatId) {
  const seat = state.seats.get(seatId);
  return seat ? seat.label : `#${seatId}`;
}
