// One ticket, printable: event, date, seat, section and code beside its QR code (GET /tickets/<code>/qr.svg,
// fetched with the Bearer token and shown as a data: image, which the page's policy allows).
// The view is a <dialog> made here, so the page's template does not change; printing shows it alone.

import { api } from "./api.js";
import { fail } from "./notice.js";

let dialog = null;

function field(term, value) {
  const row = document.createElement("div");
  const dt = document.createElement("dt");
  dt.textContent = term;
  const dd = document.createElement("dd");
  dd.textContent = value;
  row.append(dt, dd);
  return row;
}

function build() {
  dialog = document.createElement("dialog");
  dialog.id = "ticket-view";
  dialog.className = "ticket-view";
  dialog.setAttribute("aria-labelledby", "ticket-view-title");
  dialog.innerHTML = `
    <article class="printed-ticket">
      <h2 id="ticket-view-title"></h2>
      <img id="ticket-qr" class="ticket-qr" alt="" width="232" height="232">
      <dl id="ticket-facts" class="ticket-facts"></dl>
    </article>
    <div class="actions">
      <button type="button" id="ticket-print">Print</button>
      <button type="button" id="ticket-close" class="secondary">Close</button>
    </div>`;
  document.body.appendChild(dialog);
  dialog.querySelector("#ticket-print").addEventListener("click", () => window.print());
  dialog.querySelector("#ticket-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => document.body.classList.remove("showing-ticket"));
}

/** Show the ticket with its QR code, ready to print. */
export async function openTicket(ticket) {
  if (!dialog) build();
  const when = ticket.event.starts_at ? new Date(ticket.event.starts_at).toLocaleString() : "No date set";
  dialog.querySelector("#ticket-view-title").textContent = ticket.event.name;
  const facts = dialog.querySelector("#ticket-facts");
  facts.replaceChildren(
    field("Date", when),
    field("Seat", ticket.seat.label),
    field("Section", ticket.seat.section || "—"),
    field("Row", `${ticket.seat.row} · seat ${ticket.seat.number}`),
    field("Code", ticket.code),
  );
  if (ticket.status === "void") facts.append(field("Status", "Void: this ticket admits nobody"));
  const image = dialog.querySelector("#ticket-qr");
  image.removeAttribute("src");
  image.alt = `QR code of ticket ${ticket.code}`;
  document.body.classList.add("showing-ticket");
  if (!dialog.open) dialog.showModal();
  try {
    const svg = await api("GET", `/tickets/${encodeURIComponent(ticket.code)}/qr.svg`, {
      text: true, headers: { Accept: "image/svg+xml" },
    });
    image.src = `data:image/svg+xml;base64,${btoa(svg)}`;
  } catch (error) {
    fail(error);
  }
}
