// The basket (held seats and their countdowns), the order, and the payment with a test card.

import { api, ApiError, hasTokens } from "./api.js";
import { MESSAGES } from "./errors.js";
import { cents, clockText, money, remaining } from "./format.js";
import { refreshSeat } from "./holds.js";
import { announce, clearNotice, fail, notify } from "./notice.js";
import { setSeat } from "./seatmap.js";
import { el, labelOf, state } from "./state.js";
import { loadTickets } from "./tickets.js";

// Refusals after which the order is gone and its seats are free again.
const ORDER_GONE = ["payment_declined", "order_expired", "order_not_payable"];

const plural = (count) => (count === 1 ? "" : "s");

function mySeats() {
  return Array.from(state.seats.values()).filter((seat) => seat.mine);
}

/** List the seats I hold (outside my order) with their total and countdowns. */
export function renderBasket() {
  const mine = mySeats().filter((seat) => !state.order || !state.order.seat_ids.includes(seat.id));
  el.held.replaceChildren();
  for (const seat of mine) {
    const item = document.createElement("li");
    const name = document.createElement("span");
    name.textContent = `${seat.label} · ${money(cents(seat.price), state.event.currency)}`;
    const countdown = document.createElement("span");
    countdown.className = "countdown";
    countdown.dataset.seatId = seat.id;
    item.append(name, countdown);
    el.held.appendChild(item);
  }
  const total = mine.reduce((sum, seat) => sum + cents(seat.price), 0);
  el.basketEmpty.hidden = mine.length > 0 || Boolean(state.order) || Boolean(state.retry);
  el.basketTotal.hidden = mine.length === 0;
  el.basketTotal.textContent = `Total: ${money(total, state.event ? state.event.currency : "USD")}`;
  el.checkout.hidden = mine.length === 0 || Boolean(state.order);
  el.checkout.textContent = `Check out ${mine.length} seat${plural(mine.length)}`;
  tick();
}

// Once a second: the holds' countdowns, and the order's.
function tick() {
  for (const node of el.held.querySelectorAll(".countdown")) {
    const seat = state.seats.get(Number(node.dataset.seatId));
    if (!seat || !seat.expiresAt) continue;
    const left = remaining(seat.expiresAt);
    node.textContent = left > 0 ? `held ${clockText(left)}` : "hold ended";
    node.classList.toggle("soon", left <= 10);
    if (left === 0 && seat.mine) {
      setSeat(seat.id, { mine: false });
      refreshSeat(seat.id);
      holdsLost([seat]);
    }
  }
  if (state.order) {
    const left = remaining(state.order.expires_at);
    el.orderDeadline.textContent = left > 0
      ? `Your seats are held for ${clockText(left)} while you pay.`
      : "The time to pay has run out.";
  }
}

/** Tell me that holds of mine ran out (or my whole checkout, when they were in my order). */
export function holdsLost(seats) {
  const order = state.order;
  if (order && seats.some((seat) => order.seat_ids.includes(seat.id))) {
    state.order = null;
    showOrder();
    notify(MESSAGES.order_expired);
    return;
  }
  const labels = seats.map((seat) => seat.label).join(", ");
  notify(`Your hold on seat${plural(seats.length)} ${labels} ran out.`);
}

/** Show the pending order (or hide the checkout when there is none), the retry offer, and the basket. */
export function showOrder() {
  const order = state.order;
  el.order.hidden = !order;
  if (order) {
    const labels = order.seat_ids.map(labelOf);
    const total = money(cents(order.total), order.currency);
    el.orderSummary.textContent =
      `Order ${order.id}: seat${plural(labels.length)} ${labels.join(", ")}. Total ${total}.`;
    const free = cents(order.total) === 0;
    el.cards.hidden = free; // a free order is paid without a card
    el.pay.textContent = free ? "Get tickets" : `Pay ${total}`;
  }
  const retry = !order && state.event && state.retry && state.retry.eventId === state.event.id ? state.retry : null;
  el.retry.hidden = !retry;
  if (retry) {
    const count = retry.labels.length;
    el.retrySummary.textContent = `Your card was declined, so seat${plural(count)} ${retry.labels.join(", ")} ` +
      `${count === 1 ? "was" : "were"} released. You can hold ${count === 1 ? "it" : "them"} again and pay with another card.`;
  }
  renderBasket();
}

/** Find my pending order of the event on screen (a checkout started earlier, or in another tab). */
export async function loadOrder(generation) {
  if (!hasTokens()) { showOrder(); return; }
  try {
    const answer = await api("GET", "/orders");
    if (generation !== state.generation) return;
    state.order = answer.orders.find(
      (order) => order.event_id === state.event.id && order.status === "pending_payment") || null;
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) fail(error);
  }
  showOrder();
}

async function checkOut() {
  const seatIds = mySeats().map((seat) => seat.id);
  if (!seatIds.length) return;
  el.checkout.disabled = true;
  try {
    await startOrder(seatIds);
  } finally {
    el.checkout.disabled = false;
  }
}

// An order for these seats (mine already, or free again after a declined card); true when it started.
async function startOrder(seatIds) {
  clearNotice();
  try {
    const answer = await api("POST", "/orders", { body: { seat_ids: seatIds } });
    state.order = answer.order;
    state.retry = null;
    for (const id of seatIds) setSeat(id, { status: "locked", mine: true, expiresAt: answer.order.expires_at });
    showOrder();
    el.pay.focus();
    return true;
  } catch (error) {
    fail(error);
    if (error instanceof ApiError && error.details && error.details.unavailable) {
      error.details.unavailable.forEach(refreshSeat);
      state.retry = null; // some of them went to someone else: the buyer picks again
      showOrder();
    }
    return false;
  }
}

// "Try again with these seats": after a declined card, the same seats in a new order, in one click.
async function retryOrder() {
  const retry = state.retry;
  if (!retry) return;
  el.retryOrder.disabled = true;
  try {
    if (await startOrder(retry.seatIds)) announce(`Seats ${retry.labels.join(", ")} are held for you again.`);
  } finally {
    el.retryOrder.disabled = false;
  }
}

async function pay() {
  const order = state.order;
  if (!order) return;
  // A test card (test gateway), else the token typed for a real one (the page shows one or the other).
  const card = document.querySelector('input[name="card"]:checked');
  const token = card ? card.value : document.getElementById("card-token").value.trim();
  const body = cents(order.total) === 0 ? {} : { payment_token: token };
  el.pay.disabled = el.cancelOrder.disabled = true;
  clearNotice();
  announce("Paying…");
  try {
    // The same key for every try at this order: a retry after a lost answer gets that answer
    // (and is charged once), instead of being refused as paid and letting the seats go.
    const answer = await api("POST", `/orders/${order.id}/pay`, {
      body, headers: { "Idempotency-Key": paymentKey(order.id) },
    });
    forgetPaymentKey(order.id);
    state.order = null;
    for (const ticket of answer.order.tickets) {
      setSeat(ticket.seat_id, { status: "booked", mine: false, expiresAt: null });
    }
    showOrder();
    await loadTickets({ focus: true });
    announce("Payment accepted. Your tickets are below.");
  } catch (error) {
    fail(error);
    if (error instanceof ApiError && ORDER_GONE.includes(error.code)) {
      forgetPaymentKey(order.id);
      releaseOrderLocally(order);
      if (error.code === "payment_declined") offerRetry(order);
    }
  } finally {
    el.pay.disabled = el.cancelOrder.disabled = false;
  }
}

// The declined order's seats, to hold again in one click (they are free for anyone meanwhile).
function offerRetry(order) {
  state.retry = { eventId: order.event_id, seatIds: order.seat_ids, labels: order.seat_ids.map(labelOf) };
  showOrder();
  el.retryOrder.focus();
}

async function cancelOrder() {
  const order = state.order;
  if (!order) return;
  el.pay.disabled = el.cancelOrder.disabled = true;
  try {
    await api("POST", `/orders/${order.id}/cancel`);
    forgetPaymentKey(order.id);
    releaseOrderLocally(order);
    notify("Your order was cancelled and its seats released.", "info");
  } catch (error) {
    fail(error);
  } finally {
    el.pay.disabled = el.cancelOrder.disabled = false;
  }
}

// The order's seats are free again (as far as we know: each is asked for again).
function releaseOrderLocally(order) {
  state.order = null;
  for (const id of order.seat_ids) {
    const seat = state.seats.get(id);
    if (seat && seat.mine) setSeat(id, { status: "available", mine: false, expiresAt: null });
  }
  order.seat_ids.forEach(refreshSeat);
  showOrder();
}

const PAYMENT_KEY = "ticketing.payment-key.";

/** The Idempotency-Key of every payment try of this order in this tab (made on the first try). */
export function paymentKey(orderId) {
  let key = sessionStorage.getItem(PAYMENT_KEY + orderId);
  if (!key) {
    key = newKey();
    sessionStorage.setItem(PAYMENT_KEY + orderId, key);
  }
  return key;
}

// Once the order is settled (paid, declined, gone), its key has done its job.
function forgetPaymentKey(orderId) {
  sessionStorage.removeItem(PAYMENT_KEY + orderId);
}

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Listen to the basket's and the order's buttons, and start the countdowns. */
export function initCheckout() {
  el.checkout.addEventListener("click", checkOut);
  el.pay.addEventListener("click", pay);
  el.cancelOrder.addEventListener("click", cancelOrder);
  el.retryOrder.addEventListener("click", retryOrder);
  setInterval(tick, 1000);
}
