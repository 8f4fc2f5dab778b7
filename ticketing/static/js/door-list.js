// What a door knows without the network: the event's tickets with where each stands (from
// GET /events/<id>/door-list, kept current from GET /events/<id>/checkins), and the scans waiting to
// be uploaded. Both live in localStorage, so a reload while offline loses neither.
// Local decisions follow the server's rule (models/checkin.py `decide`): entry admits a valid ticket
// that is not inside, exit lets out one that is, a void ticket admits nobody.

const LIST_PREFIX = "door.list.";
const QUEUE_KEY = "door.queue";

function read(key, fallback) {
  try {
    return JSON.parse(localStorage.getItem(key)) ?? fallback;
  } catch {
    return fallback;
  }
}

/** The list as downloaded: `{event, tickets: {code: ticket}, cursor, savedAt}`. */
export function fromDownload(answer) {
  const tickets = {};
  for (const ticket of answer.tickets) tickets[ticket.code] = ticket;
  return { event: answer.event, tickets, cursor: answer.last_checkin_id || 0, savedAt: new Date().toISOString() };
}

export const loadList = (eventId) => read(LIST_PREFIX + eventId, null);

export function saveList(list) {
  try {
    localStorage.setItem(LIST_PREFIX + list.event.id, JSON.stringify(list));
  } catch {
    // A full storage keeps the list in memory for this page; scans are still queued below.
  }
}

/** Move a ticket in or out as a decided scan says (`at`: when it counts, `gate`: where). */
export function move(list, code, result, at, gate) {
  const ticket = list.tickets[code];
  if (!ticket) return;
  if (result === "admitted") Object.assign(ticket, { inside: true, checked_in_at: at, gate });
  else if (result === "exited") Object.assign(ticket, { inside: false, gate: null });
}

/** Apply the server's record of a scan (any door's) to the list. */
export function applyCheckin(list, checkin) {
  const at = checkin.forced ? checkin.scanned_at : checkin.recorded_at;
  move(list, checkin.code, checkin.result, at, checkin.gate);
  list.cursor = Math.max(list.cursor, checkin.id);
}

/** Decide a scan from the list alone: `{result, ticket, inside}` (inside: the admission, for a refusal). */
export function decideLocally(list, code, type, gate, at) {
  const ticket = list.tickets[code];
  if (!ticket) return { result: "ticket_not_found", ticket: null };
  const before = { at: ticket.checked_in_at, gate: ticket.gate };
  let result;
  if (ticket.status === "void") result = "void";
  else if (type === "entry") result = ticket.inside ? "already_checked_in" : "admitted";
  else result = ticket.inside ? "exited" : "not_checked_in";
  move(list, code, result, at, gate);
  return { result, ticket, inside: before };
}

/** Tickets admitted at least once, and inside now. */
export function counts(list) {
  let admitted = 0;
  let inside = 0;
  const tickets = Object.values(list.tickets);
  for (const ticket of tickets) {
    if (ticket.checked_in_at) admitted += 1;
    if (ticket.inside) inside += 1;
  }
  return { admitted, inside, tickets: tickets.length };
}

/** The scans decided offline, oldest first: `{eventId, code, nonce, type, gate, scanned_at}`. */
export const queued = () => read(QUEUE_KEY, []);

export function enqueue(scan) {
  localStorage.setItem(QUEUE_KEY, JSON.stringify([...queued(), scan]));
}

export function dequeue(nonce) {
  localStorage.setItem(QUEUE_KEY, JSON.stringify(queued().filter((scan) => scan.nonce !== nonce)));
}

/** A new id for one scan: the server answers the same nonce with its first answer. */
export function newNonce() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
