// "Your tickets": every ticket of the signed-in user, of every event, as GET /tickets gives them
// (so they are there again after a reload or on another device), newest purchase first.

import { api, ApiError, hasTokens } from "./api.js";
import { fail } from "./notice.js";
import { addRefundButtons } from "./refunds.js";
import { el } from "./state.js";
import { openTicket } from "./ticketview.js";

let asked = 0; // counts requests: an older answer arriving late is dropped

/** Ask the server for my tickets and list them; `focus` moves to the list (after a purchase). */
export async function loadTickets({ focus = false } = {}) {
  const request = ++asked;
  if (!hasTokens()) { showTickets([]); return; }
  try {
    const answer = await api("GET", "/tickets");
    if (request !== asked) return;
    showTickets(answer.tickets);
    if (focus) el.ticketsTitle.focus();
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) fail(error);
  }
}

/** Forget the tickets on screen (signed out). */
export function clearTickets() {
  asked += 1;
  showTickets([]);
}

function showTickets(tickets) {
  el.tickets.hidden = tickets.length === 0;
  el.ticketList.replaceChildren();
  for (const ticket of tickets) {
    const item = document.createElement("li");
    item.dataset.code = ticket.code;
    const event = document.createElement("strong");
    event.className = "ticket-event";
    event.textContent = ticket.event.name;
    const when = ticket.event.starts_at ? ` · ${new Date(ticket.event.starts_at).toLocaleString()}` : "";
    const seat = document.createElement("span");
    seat.className = "ticket-seat";
    const order = ticket.order_id === null ? "free seat" : `order ${ticket.order_id}`;
    seat.textContent = `Seat ${ticket.seat.label} · ${order}${when}`;
    const code = document.createElement("code");
    code.textContent = ticket.code;
    const show = document.createElement("button");
    show.type = "button";
    show.className = "secondary show-ticket";
    show.textContent = ticket.checked_in ? "Show ticket (checked in)" : "Show ticket and QR code";
    show.addEventListener("click", () => openTicket(ticket));
    item.append(event, seat, code, show);
    el.ticketList.appendChild(item);
  }
  addRefundButtons([...el.ticketList.children], tickets, () => loadTickets());
}
