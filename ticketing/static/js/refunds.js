// A "Refund" button on each of the buyer's valid tickets of an order, while the ticket's event takes
// refunds from buyers (its `buyer_refunds_until` has not passed). The first click asks to confirm;
// the second refunds that ticket (POST /orders/<id>/refund) with an Idempotency-Key kept for the
// ticket in this tab, so a retry after a failure gives the money back once.

import { ApiError, api, serverNow } from "./api.js";
import { announce, fail, notify } from "./notice.js";

const REFUND_KEY = "ticketing.refund-key.";
const CONFIRM_MS = 5000;

/** Add the buttons to the listed tickets (`items` in the order of `tickets`); `reload` lists them again. */
export async function addRefundButtons(items, tickets, reload) {
  const until = await refundDeadlines(tickets);
  tickets.forEach((ticket, index) => {
    const item = items[index];
    if (!item || item.dataset.code !== ticket.code) return; // the list changed meanwhile
    item.classList.toggle("void", ticket.status === "void");
    if (ticket.status === "void") item.querySelector(".ticket-seat")?.append(" · refunded");
    const deadline = until.get(ticket.event.id);
    if (ticket.status !== "valid" || ticket.order_id === null || !deadline || deadline <= serverNow()) return;
    item.querySelector(".ticket-seat")?.append(` · refundable until ${new Date(deadline).toLocaleString()}`);
    item.append(refundButton(ticket, reload));
  });
}

// Each event's end of buyers' refunds (ms since the epoch), for the events with a ticket that could be refunded.
async function refundDeadlines(tickets) {
  const ids = new Set(tickets.filter((t) => t.status === "valid" && t.order_id !== null).map((t) => t.event.id));
  const until = new Map();
  await Promise.all([...ids].map(async (id) => {
    try {
      const { event } = await api("GET", `/events/${id}`);
      until.set(id, event.buyer_refunds_until ? Date.parse(event.buyer_refunds_until) : null);
    } catch {
      until.set(id, null); // no button rather than a wrong one
    }
  }));
  return until;
}

function refundButton(ticket, reload) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "secondary refund";
  const label = `Refund ${ticket.price}`;
  button.textContent = label;
  let armed = null;
  button.addEventListener("click", async () => {
    if (!armed) {
      button.textContent = `Confirm refund of seat ${ticket.seat.label}`;
      button.classList.add("confirm");
      armed = setTimeout(() => { armed = null; button.textContent = label; button.classList.remove("confirm"); },
        CONFIRM_MS);
      return;
    }
    clearTimeout(armed);
    armed = null;
    button.disabled = true;
    try {
      const answer = await api("POST", `/orders/${ticket.order_id}/refund`, {
        body: { ticket_codes: [ticket.code] },
        headers: { "Idempotency-Key": refundKey(ticket.code) },
      });
      sessionStorage.removeItem(REFUND_KEY + ticket.code);
      const money = `${answer.refund.amount} ${answer.refund.currency}`;
      notify(`Seat ${ticket.seat.label} refunded: ${money} goes back to your card.`, "info");
      announce(`Seat ${ticket.seat.label} refunded.`);
      reload();
    } catch (error) {
      button.disabled = false;
      button.textContent = label;
      button.classList.remove("confirm");
      if (error instanceof ApiError && error.code === "payment_gateway_error") {
        notify("The payment service did not refund this ticket, and nothing changed: the ticket is still " +
          "yours. Please try again in a moment.");
      } else {
        fail(error);
      }
    }
  });
  return button;
}

// One key per ticket in this tab, made on the first try: a retry after an error is the same refund.
function refundKey(code) {
  let key = sessionStorage.getItem(REFUND_KEY + code);
  if (!key) {
    key = crypto.randomUUID ? crypto.randomUUID()
      : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
    sessionStorage.setItem(REFUND_KEY + code, key);
  }
  return key;
}
