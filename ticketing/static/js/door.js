// The door page: pick an event, type or scan a ticket's code, see a big green "Admitted" or a red
// refusal with its reason. Works offline: the event's tickets are downloaded beforehand
// (door-list.js); while the network is down scans are decided from that list and queued, and are
// uploaded with `force` once it is back (the server records them as forced; their nonces make an
// upload that was half sent safe to send again). See docs/door.md.

import { api, ApiError, hasTokens, saveTokens, serverNow, whenSessionEnds } from "./api.js";
import { cameraAvailable, cameraOn, startCamera, stopCamera } from "./door-camera.js";
import {
  applyCheckin, counts, decideLocally, dequeue, enqueue, fromDownload, loadList, move, newNonce, queued, saveList,
} from "./door-list.js";
import { plainWords } from "./errors.js";

const $ = (id) => document.getElementById(id);
const el = {
  event: $("door-event"), gate: $("door-gate"), auth: $("door-auth"), email: $("door-email"),
  password: $("door-password"), signIn: $("door-sign-in"), signedIn: $("door-signed-in"), who: $("door-who"),
  signOut: $("door-sign-out"), notice: $("door-notice"), form: $("scan-form"), code: $("scan-code"),
  camera: $("camera-toggle"), video: $("camera-view"), answer: $("answer"), answerTitle: $("answer-title"),
  answerDetail: $("answer-detail"), admitted: $("count-admitted"), inside: $("count-inside"),
  tickets: $("count-tickets"), connection: $("connection"), recent: $("recent"),
};

const EVENT_KEY = "door.event";
const GATE_KEY = "door.gate";
const POLL_MS = 5000;

let list = null; // the chosen event's door list (door-list.js)
let uploading = false;
let pollTimer = null;

// What each result looks like: its colour (ok: green, out: blue, no: red) and its words.
const RESULTS = {
  admitted: { tone: "ok", title: "Admitted" },
  exited: { tone: "out", title: "Exited" },
  already_checked_in: { tone: "no", title: "Already checked in" },
  void: { tone: "no", title: "Void ticket" },
  not_checked_in: { tone: "no", title: "Not inside" },
  ticket_not_found: { tone: "no", title: "Not a ticket for this event" },
};
// A refusal's code (an error answer) and the result it stands for.
const REFUSED = { already_checked_in: "already_checked_in", ticket_void: "void", not_checked_in: "not_checked_in",
  ticket_not_found: "ticket_not_found" };

function notice(text) {
  el.notice.textContent = text || "";
  el.notice.hidden = !text;
}

const time = (iso) => (iso ? new Date(iso).toLocaleTimeString() : "");
const seatText = (ticket) =>
  ticket ? `Seat ${ticket.seat.label}${ticket.seat.section ? ` · ${ticket.seat.section}` : ""}` : "";

/** Show a decided scan: big, in its colour, with the reason and (for a second scan) when and where. */
function showAnswer({ result, ticket, inside, code, offline }) {
  const look = RESULTS[result] || { tone: "no", title: "Refused" };
  el.answer.className = `answer ${look.tone}`;
  el.answerTitle.textContent = look.title;
  let detail = seatText(ticket);
  if (result === "already_checked_in" && inside) {
    detail = `First checked in at ${time(inside.at)}${inside.gate ? `, gate ${inside.gate}` : ""}. ${detail}`;
  } else if (result === "void") {
    detail = `Refunded, or the event was cancelled. ${detail}`;
  } else if (result === "not_checked_in") {
    detail = `This ticket has not come in, so it cannot go out. ${detail}`;
  } else if (result === "ticket_not_found") {
    detail = `No ticket of this event has the code ${code}.`;
  } else if (result === "exited") {
    detail = `${detail} — may come back in.`;
  }
  el.answerDetail.textContent = offline ? `${detail} (decided offline; will be uploaded)` : detail;
  const item = document.createElement("li");
  item.className = look.tone;
  item.textContent = `${new Date().toLocaleTimeString()} · ${look.title} · ${ticket ? ticket.seat.label : code}`;
  el.recent.prepend(item);
  while (el.recent.children.length > 12) el.recent.lastElementChild.remove();
  renderCounts();
}

function renderCounts() {
  const shown = list ? counts(list) : { admitted: 0, inside: 0, tickets: 0 };
  el.admitted.textContent = shown.admitted;
  el.inside.textContent = shown.inside;
  el.tickets.textContent = shown.tickets;
  const waiting = queued().length;
  const online = navigator.onLine;
  const saved = list ? ` List of ${shown.tickets} tickets from ${time(list.savedAt)}.` : "";
  const queue = waiting ? ` ${waiting} scan${waiting === 1 ? "" : "s"} waiting to upload.` : "";
  el.connection.textContent = `${online ? "Online." : "Offline: deciding from the downloaded list."}${saved}${queue}`;
  el.connection.classList.toggle("offline", !online);
}

const direction = () => el.form.querySelector('input[name="direction"]:checked').value;

/** Check one code in (or out): the server decides while it can be reached, the list when not. */
async function scan(raw) {
  const code = raw.trim();
  if (!code || !list) return;
  const scanned = { eventId: list.event.id, code, nonce: newNonce(), type: direction(), gate: el.gate.value.trim(),
    scanned_at: new Date(serverNow()).toISOString() }; // this device's clock, set right by the server's Date
  if (navigator.onLine) {
    try {
      const answer = await api("POST", `/events/${scanned.eventId}/checkins`, {
        body: { code, nonce: scanned.nonce, type: scanned.type, gate: scanned.gate },
      });
      move(list, code, answer.result, answer.ticket && answer.ticket.checked_in_at, scanned.gate);
      saveList(list);
      showAnswer({ result: answer.result, ticket: answer.ticket, code });
      return;
    } catch (error) {
      // Unreachable (0) or failing (5xx: busy, no database): decide here, as below. Anything else is
      // the server's answer.
      if (!(error instanceof ApiError) || (error.status !== 0 && error.status < 500)) {
        const result = error instanceof ApiError ? REFUSED[error.code] : null;
        if (!result) { notice(plainWords(error)); return; }
        const details = error.details || {};
        showAnswer({ result, ticket: list.tickets[code] ? asTicket(code) : null, code,
          inside: { at: details.checked_in_at, gate: details.gate } });
        return;
      }
      // The nonce makes a scan that did arrive (and was recorded) safe to upload again.
    }
  }
  const local = decideLocally(list, code, scanned.type, scanned.gate, scanned.scanned_at);
  enqueue(scanned);
  saveList(list);
  showAnswer({ ...local, ticket: local.ticket ? asTicket(code) : null, code, offline: true });
}

// A door-list entry in the shape of the API's ticket, for the answer's words.
const asTicket = (code) => ({ code, seat: list.tickets[code].seat });

/** Upload the scans decided offline, oldest first, with `force`; stop at the first network failure. */
async function upload() {
  if (uploading || !navigator.onLine) return;
  uploading = true;
  try {
    for (const scanned of queued()) {
      try {
        await api("POST", `/events/${scanned.eventId}/checkins`, {
          body: { code: scanned.code, nonce: scanned.nonce, type: scanned.type, gate: scanned.gate,
            scanned_at: scanned.scanned_at, force: true },
        });
        dequeue(scanned.nonce);
      } catch (error) {
        if (error instanceof ApiError && error.status === 0) break;
        if (error instanceof ApiError && error.status === 401) break; // signed out: keep them for later
        if (error instanceof ApiError && error.status >= 500) break; // busy: the next round retries
        dequeue(scanned.nonce); // refused for good (no longer a door of the event): nothing to retry
        notice(`A scan of ${scanned.code} could not be uploaded: ${plainWords(error)}`);
      }
    }
  } finally {
    uploading = false;
    renderCounts();
  }
}

/** Catch up with every door's scans since the list's cursor. */
async function poll() {
  if (!list || !navigator.onLine) return;
  const eventId = list.event.id;
  try {
    for (;;) {
      const page = await api("GET", `/events/${eventId}/checkins?after=${list.cursor}&limit=1000`);
      if (!list || list.event.id !== eventId) return;
      for (const checkin of page.checkins) applyCheckin(list, checkin);
      if (page.next_after === null) break;
    }
    saveList(list);
    renderCounts();
  } catch {
    // Offline or busy: the next round tries again.
  }
}

async function tick() {
  await upload();
  await poll();
  clearTimeout(pollTimer);
  pollTimer = setTimeout(tick, POLL_MS);
}

/** Take the event's list (fresh from the server when online, else the one downloaded before). */
async function chooseEvent(eventId) {
  localStorage.setItem(EVENT_KEY, String(eventId));
  list = loadList(eventId);
  if (navigator.onLine) {
    try {
      list = fromDownload(await api("GET", `/events/${eventId}/door-list`));
      saveList(list);
      notice("");
    } catch (error) {
      if (!list) { notice(plainWords(error)); return; }
    }
  }
  if (!list) notice("This event's list has not been downloaded yet; connect once to download it.");
  renderCounts();
  el.code.focus();
  tick();
}

async function loadEvents() {
  let events = [];
  try {
    const answer = await api("GET", "/auth/me");
    const me = answer.user;
    el.who.textContent = me.name || me.email;
    const mine = new Set((answer.organizations || []).map((organization) => organization.id));
    events = (await api("GET", "/events")).events.filter(
      (event) => me.is_admin || mine.has(event.organization_id));
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 0)) { notice(plainWords(error)); return; }
    // Offline: the events whose lists were downloaded before.
    const saved = Object.keys(localStorage).filter((key) => key.startsWith("door.list."));
    events = saved.map((key) => loadList(key.slice("door.list.".length)).event);
  }
  el.event.replaceChildren();
  for (const event of events) {
    const option = document.createElement("option");
    option.value = event.id;
    option.textContent = `${event.name}${event.starts_at ? ` · ${new Date(event.starts_at).toLocaleString()}` : ""}`;
    el.event.appendChild(option);
  }
  el.event.disabled = events.length === 0;
  if (!events.length) { notice("No events to check in: you need the door role in an event's organization."); return; }
  const wanted = Number(new URLSearchParams(location.search).get("event") || localStorage.getItem(EVENT_KEY));
  const chosen = events.find((event) => event.id === wanted) || events[0];
  el.event.value = String(chosen.id);
  await chooseEvent(chosen.id);
}

function showSignedIn(signedIn) {
  el.auth.hidden = signedIn;
  el.signedIn.hidden = !signedIn;
  el.form.querySelector("#scan-check").disabled = !signedIn;
}

async function signIn(event) {
  event.preventDefault();
  try {
    const tokens = await api("POST", "/auth/login", {
      body: { email: el.email.value.trim(), password: el.password.value }, auth: false,
    });
    saveTokens({ access_token: tokens.access_token, refresh_token: tokens.refresh_token });
    el.password.value = "";
    showSignedIn(true);
    await loadEvents();
  } catch (error) {
    notice(plainWords(error));
  }
}

function init() {
  el.gate.value = localStorage.getItem(GATE_KEY) || "";
  el.gate.addEventListener("change", () => localStorage.setItem(GATE_KEY, el.gate.value.trim()));
  el.auth.addEventListener("submit", signIn);
  el.signOut.addEventListener("click", () => {
    saveTokens(null);
    showSignedIn(false);
    notice("Signed out. Scans waiting to upload are kept until someone signs in.");
  });
  whenSessionEnds((message) => { saveTokens(null); showSignedIn(false); notice(message); });
  el.event.addEventListener("change", () => chooseEvent(Number(el.event.value)));
  el.form.addEventListener("submit", (event) => {
    event.preventDefault();
    const code = el.code.value;
    el.code.value = "";
    el.code.focus();
    scan(code);
  });
  if (cameraAvailable()) {
    el.camera.hidden = false;
    el.camera.addEventListener("click", async () => {
      if (cameraOn()) { stopCamera(el.video); el.camera.textContent = "Scan with camera"; return; }
      try {
        await startCamera(el.video, (code) => scan(code));
        el.camera.textContent = "Stop camera";
      } catch {
        notice("The camera could not be started; type the code instead.");
      }
    });
  }
  window.addEventListener("online", () => { renderCounts(); tick(); });
  window.addEventListener("offline", renderCounts);
  showSignedIn(hasTokens());
  renderCounts();
  if (hasTokens()) loadEvents();
}

init();
