// An event's sales, for its managers and owners (a door member never sees the event panel): the
// report (seats, tickets, money, by category), the orders with their buyers in pages, a refund of a
// whole order or of chosen tickets (confirmed first; one Idempotency-Key per attempt, kept until it
// succeeds or is refused, so a retry gives the money back once), the attendee list as CSV (fetched
// with the Bearer token, saved through a Blob link) and the event's audit log in pages.

import { api, ApiError } from "../api.js";
import { cents, money } from "../format.js";
import { can, state } from "./state.js";
import { $, announce, busy, clearNotice, count, fail, h, notify, when } from "./ui.js";

const PAGE = 20;
const ORDER_WORDS = {
  pending_payment: "Awaiting payment", paid: "Paid", payment_failed: "Payment failed", cancelled: "Cancelled",
  expired: "Expired", partially_refunded: "Partly refunded", refunded: "Refunded",
};
const REFUNDABLE = new Set(["paid", "partially_refunded"]);
const ACTION_WORDS = {
  "event.create": "Event created", "event.update": "Event changed", "event.publish": "Put on sale",
  "event.close": "Sales closed", "event.cancel": "Event cancelled", "seats.block": "Seats blocked",
  "seats.unblock": "Seats unblocked", "order.refund": "Refund",
};
// Answers after which the same attempt may be sent again (the key is kept); any other refusal is final.
const RETRYABLE = new Set(["payment_gateway_error", "refund_in_progress", "network", "internal_error", "busy",
  "database_unavailable", "rate_limited"]);

let generation = 0; // bumps when another event opens or none: stale answers are dropped
let ordersAfter = null; // the next page's `after`, null when every order is listed
let auditAfter = null;
let auditLast = null; // the last entry listed (a refund's entry is fetched after it)
const refundKeys = new Map(); // "order:codes" -> the Idempotency-Key of that attempt, until it ends

const amount = (price, currency) => money(cents(price), currency);
const newKey = () => (crypto.randomUUID ? crypto.randomUUID()
  : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join(""));

/** Show the sales of the event now open (state.event). */
export function openSales() {
  generation += 1;
  const show = Boolean(state.event) && can("manager");
  $("sales").hidden = !show;
  $("report-figures").replaceChildren();
  $("category-list").replaceChildren();
  $("order-list").replaceChildren();
  $("audit-list").replaceChildren();
  $("orders-more").hidden = $("audit-more").hidden = true;
  $("orders-empty").hidden = true;
  auditLast = null;
  if (!show) return;
  loadReport();
  loadOrders(false);
  loadAudit(false);
}

/** The event panel closed: forget its answers. */
export function closeSales() {
  generation += 1;
}

async function loadReport() {
  const mine = generation;
  const eventId = state.event.id;
  try {
    const { report } = await api("GET", `/events/${eventId}/report`);
    if (mine !== generation) return;
    renderReport(report);
  } catch (error) {
    if (mine === generation) fail(error);
  }
}

function figure(key, label, value) {
  return [h("dt", {}, label), h("dd", { dataset: { figure: key } }, value)];
}

function renderReport(report) {
  const { seats, tickets, revenue } = report;
  const currency = revenue.currency;
  $("report-figures").replaceChildren(
    h("div", { className: "figure-group" }, h("h5", {}, "Seats"), h("dl", {},
      ...figure("available", "Available", count(seats.available)), ...figure("locked", "Held", count(seats.locked)),
      ...figure("booked", "Sold", count(seats.booked)), ...figure("blocked", "Blocked", count(seats.blocked)))),
    h("div", { className: "figure-group" }, h("h5", {}, "Tickets"), h("dl", {},
      ...figure("valid", "Valid", count(tickets.valid)), ...figure("void", "Void (refunded)", count(tickets.void)),
      ...figure("checked_in", "Checked in", count(tickets.checked_in)))),
    h("div", { className: "figure-group" }, h("h5", {}, "Revenue"), h("dl", {},
      ...figure("gross", "Gross", amount(revenue.gross, currency)),
      ...figure("refunded", "Refunded", amount(revenue.refunded, currency)),
      ...figure("net", "Net", amount(revenue.net, currency)))),
  );
  $("category-list").replaceChildren(...report.by_category.map((line) => h("tr", { dataset: { category: line.category ?? "" } },
    h("th", { scope: "row" }, line.category ?? "No category"), h("td", {}, amount(line.price, currency)),
    h("td", {}, count(line.booked)), h("td", {}, amount(line.revenue, currency)))));
  $("category-table").hidden = !report.by_category.length;
}

async function loadOrders(more) {
  const mine = generation;
  const eventId = state.event.id;
  const after = more && ordersAfter !== null ? `&after=${ordersAfter}` : "";
  try {
    const answer = await api("GET", `/events/${eventId}/orders?limit=${PAGE}${after}`);
    if (mine !== generation) return;
    const rows = answer.orders.map(orderItem);
    if (more) $("order-list").append(...rows); else $("order-list").replaceChildren(...rows);
    ordersAfter = answer.next_after;
    $("orders-more").hidden = ordersAfter === null;
    $("orders-empty").hidden = $("order-list").children.length > 0;
  } catch (error) {
    if (mine === generation) fail(error);
  }
}

function orderItem(order) {
  const currency = order.currency;
  const refunded = cents(order.refunded_total) > 0 ? ` · refunded ${amount(order.refunded_total, currency)}` : "";
  const item = h("li", { className: "order", dataset: { order: String(order.id), status: order.status } },
    h("p", { className: "order-line" },
      h("strong", {}, `Order ${order.id}`), ` · ${order.buyer.email} · `,
      h("span", { className: `badge ${order.status}` }, ORDER_WORDS[order.status] || order.status),
      ` · ${amount(order.total, currency)}`, h("span", { className: "refunded" }, refunded),
      h("span", { className: "muted" }, ` · ${when(order.created_at)}`)));
  const refundable = REFUNDABLE.has(order.status);
  const tickets = h("ul", { className: "tickets" }, ...order.tickets.map((ticket) => {
    const valid = ticket.status === "valid";
    const box = h("input", { type: "checkbox", value: ticket.code, disabled: !valid || !refundable });
    return h("li", { dataset: { code: ticket.code, status: ticket.status } }, h("label", {}, box,
      ` ${ticket.label} `, h("code", {}, ticket.code), valid ? "" : " · refunded"));
  }));
  item.append(tickets);
  if (refundable) {
    const whole = order.tickets.some((ticket) => ticket.status !== "valid") ? "Refund the rest" : "Refund order";
    const button = h("button", { type: "button", className: "secondary refund" }, whole);
    const boxes = () => [...tickets.querySelectorAll("input:checked")];
    tickets.addEventListener("change", () => {
      const chosen = boxes().length;
      button.textContent = chosen ? `Refund ${chosen} ticket${chosen === 1 ? "" : "s"}` : whole;
    });
    button.addEventListener("click", () => busy([button], () => refund(order, boxes().map((box) => box.value), item)));
    item.append(h("div", { className: "actions" }, button));
  }
  return item;
}

async function refund(order, codes, item) {
  const eventId = state.event.id;
  const valid = order.tickets.filter((ticket) => ticket.status === "valid");
  const chosen = codes.length ? valid.filter((ticket) => codes.includes(ticket.code)) : valid;
  const seats = chosen.map((ticket) => ticket.label).join(", ");
  const what = codes.length ? `${chosen.length === 1 ? "the ticket" : `${chosen.length} tickets`} of order ${order.id} (${seats})`
    : `${valid.length < order.tickets.length ? "the rest" : "all"} of order ${order.id} (${seats})`;
  if (!confirm(`Refund ${what} to ${order.buyer.email}? The money goes back to their card and the seats go back on sale.`)) return;
  clearNotice();
  const attempt = `${order.id}:${[...codes].sort().join(",")}`;
  if (!refundKeys.has(attempt)) refundKeys.set(attempt, newKey());
  try {
    const answer = await api("POST", `/orders/${order.id}/refund`, {
      body: codes.length ? { ticket_codes: codes } : {},
      headers: { "Idempotency-Key": refundKeys.get(attempt) },
    });
    refundKeys.delete(attempt);
    const text = `Refunded ${amount(answer.refund.amount, answer.refund.currency)} to ${order.buyer.email}: ${seats}.`;
    notify(text, "info");
    announce(text);
    if (!state.event || state.event.id !== eventId) return;
    item.replaceWith(orderItem({ ...answer.order, buyer: order.buyer }));
    loadReport();
    loadAudit(true);
  } catch (error) {
    if (!(error instanceof ApiError && RETRYABLE.has(error.code))) refundKeys.delete(attempt);
    if (error instanceof ApiError && error.code === "payment_gateway_error") {
      notify("The payment service did not refund this, and nothing changed: the tickets are still valid. Try again: it will be the same refund.");
    } else {
      fail(error);
    }
  }
}

async function loadAudit(more) {
  const mine = generation;
  const eventId = state.event.id;
  const from = more ? (auditAfter ?? auditLast) : null; // more: the next page, or what came after the last one
  if (more && from === null && $("audit-list").children.length) return;
  try {
    const answer = await api("GET", `/events/${eventId}/audit?limit=${PAGE}${from !== null ? `&after=${from}` : ""}`);
    if (mine !== generation) return;
    const rows = answer.entries.map(auditItem);
    if (more) $("audit-list").append(...rows); else $("audit-list").replaceChildren(...rows);
    if (answer.entries.length) auditLast = answer.entries[answer.entries.length - 1].id;
    auditAfter = answer.next_after;
    $("audit-more").hidden = auditAfter === null;
  } catch (error) {
    if (mine === generation) fail(error);
  }
}

function auditItem(entry) {
  const who = entry.user_id === null ? "the system" : state.user && entry.user_id === state.user.id ? "you" : `user ${entry.user_id}`;
  return h("li", { dataset: { action: entry.action, entry: String(entry.id) } },
    h("span", { className: "muted" }, when(entry.at)), " ", h("strong", {}, ACTION_WORDS[entry.action] || entry.action),
    ` by ${who}`, auditDetails(entry));
}

function auditDetails({ action, details }) {
  const d = details || {};
  if (action === "order.refund") {
    const tickets = (d.ticket_codes || []).join(", ");
    return `: order ${d.order_id}, ${money(d.amount_cents ?? 0, d.currency || "USD")}${tickets ? ` (${tickets})` : ""}${d.reason ? `, “${d.reason}”` : ""}`;
  }
  if (action === "seats.block" || action === "seats.unblock") {
    const n = (d.seat_ids || []).length;
    return `: ${count(n)} seat${n === 1 ? "" : "s"}${d.reason ? `, “${d.reason}”` : ""}`;
  }
  if (action === "event.update" && d.changes) return `: ${Object.keys(d.changes).join(", ")}`;
  return "";
}

async function downloadAttendees(button) {
  const event = state.event;
  clearNotice();
  await busy([button], async () => {
    try {
      const text = await api("GET", `/events/${event.id}/attendees.csv`, { text: true, headers: { Accept: "text/csv" } });
      const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
      const link = h("a", { href: url, download: `attendees-event-${event.id}.csv` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      const rows = Math.max(0, text.trim().split("\n").length - 1);
      announce(`Attendee list downloaded: ${count(rows)} tickets.`);
    } catch (error) {
      fail(error);
    }
  });
}

export function initSales() {
  $("orders-more").addEventListener("click", (event) => busy([event.currentTarget], () => loadOrders(true)));
  $("audit-more").addEventListener("click", (event) => busy([event.currentTarget], () => loadAudit(true)));
  $("download-csv").addEventListener("click", (event) => downloadAttendees(event.currentTarget));
  $("sales-refresh").addEventListener("click", () => { if (state.event) openSales(); });
}
