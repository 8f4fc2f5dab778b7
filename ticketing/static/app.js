// The box-office page: the seat map of one event, kept live from the change feed, and the whole
// purchase (hold seats, order, pay with a test card, tickets) through the public JSON API.
// No framework and no build step. The token lives in sessionStorage and goes out as a Bearer header.
"use strict";

(() => {
  const TOKEN_KEY = "ticketing.tokens";
  const FEED_WAIT_SECONDS = 20;

  const $ = (id) => document.getElementById(id);
  const el = {
    eventSelect: $("event-select"), summary: $("event-summary"), priceNote: $("price-note"), map: $("map"),
    signedOut: $("signed-out"), signedIn: $("signed-in"), who: $("who"), authForm: $("auth-form"),
    email: $("email"), password: $("password"), signIn: $("sign-in"), register: $("register"), signOut: $("sign-out"),
    notice: $("notice"), noticeText: $("notice-text"), noticeClose: $("notice-close"), status: $("status"),
    held: $("held"), basketEmpty: $("basket-empty"), basketTotal: $("basket-total"), checkout: $("checkout"),
    order: $("order"), orderSummary: $("order-summary"), orderDeadline: $("order-deadline"), pay: $("pay"),
    cancelOrder: $("cancel-order"), cards: $("cards"), tickets: $("tickets"), ticketList: $("ticket-list"), ticketsDone: $("tickets-done"),
  };

  const state = {
    tokens: loadTokens(),
    user: null,
    event: null, // {id, name, currency, ...}
    seats: new Map(), // id -> {id, label, row, number, price, status, mine, expiresAt, order, node}
    generation: 0, // bumped on every event switch or sign-in: stale loops and answers stop
    order: null, // the pending order of this event, if any
    clockSkew: 0, // server time minus this browser's time, in ms (from the Date header)
    focusedSeat: null,
    feedAbort: null, // aborts the held change-feed request of the event on screen
    stamps: 0, // counts seat updates (see paintSeat)
  };

  // ---- API ---------------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, body, retryAfter) {
      super((body && body.message) || `Request failed (${status})`);
      this.status = status;
      this.code = (body && body.code) || "error";
      this.details = (body && body.details) || null;
      this.retryAfter = retryAfter;
    }
  }

  function loadTokens() {
    try {
      return JSON.parse(sessionStorage.getItem(TOKEN_KEY)) || null;
    } catch {
      return null;
    }
  }

  function saveTokens(tokens) {
    state.tokens = tokens;
    if (tokens) sessionStorage.setItem(TOKEN_KEY, JSON.stringify(tokens));
    else sessionStorage.removeItem(TOKEN_KEY);
  }

  async function api(method, path, { body, auth = true, headers = {}, signal, retried = false } = {}) {
    const init = { method, headers: { Accept: "application/json", ...headers }, signal };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const tokens = state.tokens;
    if (auth && tokens) init.headers.Authorization = `Bearer ${tokens.access_token}`;
    let response;
    try {
      response = await fetch(path, init);
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new ApiError(0, { code: "network", message: "network" });
    }
    // The Date header is whole seconds (truncated): only a clock that is clearly off is corrected.
    const date = Date.parse(response.headers.get("Date") || "");
    if (!Number.isNaN(date)) {
      const skew = date + 500 - Date.now();
      state.clockSkew = Math.abs(skew) > 1500 ? skew : 0;
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (response.status === 401 && auth && tokens && !retried && path !== "/auth/refresh") {
      if (await refreshTokens(tokens)) return api(method, path, { body, auth, headers, signal, retried: true });
      signedOut("Your session has ended. Please sign in again.");
    }
    if (!response.ok) throw new ApiError(response.status, data, response.headers.get("Retry-After"));
    return data;
  }

  async function refreshTokens(tokens) {
    if (!tokens.refresh_token) return false;
    try {
      const response = await fetch("/auth/refresh", {
        method: "POST", headers: { Authorization: `Bearer ${tokens.refresh_token}`, Accept: "application/json" },
      });
      if (!response.ok) return false;
      const fresh = await response.json();
      saveTokens({ ...tokens, access_token: fresh.access_token });
      return true;
    } catch {
      return false;
    }
  }

  // ---- Messages in plain words ---------------------------------------------------------------------

  const PLAIN = {
    network: "We can't reach the box office right now. Check your connection; we'll keep trying.",
    unauthorized: "Please sign in first.",
    invalid_credentials: "That email and password don't match an account. Check them, or create an account.",
    email_taken: "There is already an account with this email. Sign in instead.",
    rate_limited: "Too many attempts in a short time.",
    forbidden: "You are not allowed to do that.",
    seat_locked: "Someone else is holding this seat right now. Pick another one, or wait: it frees up if they don't buy it.",
    seat_booked: "This seat has already been sold.",
    seat_not_locked: "You are not holding this seat any more.",
    lock_expired: "Your hold on this seat ran out.",
    seat_in_order: "This seat is in your checkout. Pay for it or cancel the order to change it.",
    seats_unavailable: "Some of your seats are no longer available",
    order_expired: "Your checkout ran out of time, so its seats were released. Pick your seats again.",
    order_not_payable: "This order can no longer be paid.",
    order_not_cancellable: "This order can no longer be cancelled.",
    payment_declined: "Your card was declined. Nothing was charged, and the seats were released for others.",
    payment_gateway_error: "The payment service had a problem and nothing was charged. Your seats are still held: please try again.",
    payment_in_progress: "A payment for this order is already being processed. Wait a moment, then check your order.",
    payment_required: "This seat has a price: check out to buy it.",
    busy: "The box office is very busy at the moment. Please try again in a few seconds.",
    database_unavailable: "The box office is briefly unavailable. Please try again in a moment.",
    event_not_found: "This event is no longer on sale.",
    seat_not_found: "This seat no longer exists.",
    order_not_found: "We can't find this order any more.",
  };

  const FIELD_NAMES = { email: "Email", password: "Password", name: "Name", seat_ids: "Seats", payment_token: "Card" };

  function plainWords(error) {
    if (!(error instanceof ApiError)) return "Something went wrong on this page. Please reload it.";
    let text = PLAIN[error.code];
    if (error.code === "validation_error" && error.details) {
      const problems = Object.entries(error.details).map(
        ([field, list]) => `${FIELD_NAMES[field] || field}: ${list.join(" ").replace(/\.$/, "")}.`);
      text = `Please check what you entered. ${problems.join(" ")}`;
    } else if (error.code === "rate_limited" && error.retryAfter) {
      text = `${PLAIN.rate_limited} Please wait ${error.retryAfter} seconds and try again.`;
    } else if (error.code === "seats_unavailable" && error.details && error.details.unavailable) {
      const labels = error.details.unavailable.map((id) => (state.seats.get(id) || { label: `#${id}` }).label);
      text = `${PLAIN.seats_unavailable}: ${labels.join(", ")}. Pick other seats and try again.`;
    } else if (error.code === "hold_limit_reached") {
      text = `You are holding as many seats as one person may. ${error.message}`;
    } else if (!text) {
      text = error.status >= 500 ? "Something went wrong on our side. Please try again." : error.message;
    }
    return text;
  }

  let noticeTimer = null;
  function notify(text, kind = "error") {
    el.noticeText.textContent = text;
    el.notice.classList.toggle("info", kind === "info");
    el.notice.hidden = false;
    clearTimeout(noticeTimer);
    if (kind === "info") noticeTimer = setTimeout(() => { el.notice.hidden = true; }, 6000);
  }
  function clearNotice() { el.notice.hidden = true; }
  function announce(text) { el.status.textContent = text; }
  function fail(error) {
    if (error && error.name === "AbortError") return;
    notify(plainWords(error));
  }

  // ---- Money and time ------------------------------------------------------------------------------

  const cents = (price) => Math.round(parseFloat(price) * 100);
  function money(amountCents, currency) {
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(amountCents / 100);
    } catch {
      return `${(amountCents / 100).toFixed(2)} ${currency}`;
    }
  }
  const serverNow = () => Date.now() + state.clockSkew;
  function remaining(isoTime) {
    return Math.max(0, Math.round((Date.parse(isoTime) - serverNow()) / 1000));
  }
  function clockText(seconds) {
    const minutes = Math.floor(seconds / 60);
    return `${minutes}:${String(seconds % 60).padStart(2, "0")}`;
  }

  // ---- The seat map --------------------------------------------------------------------------------

  const STATUS_WORDS = { available: "available", locked: "held by someone else", booked: "sold" };

  function seatClass(seat) {
    if (seat.mine) return "seat mine";
    return `seat ${seat.status}`;
  }

  function seatLabel(seat) {
    const words = seat.mine ? "held by you" : STATUS_WORDS[seat.status];
    return `Seat ${seat.label}, ${words}, ${money(cents(seat.price), state.event.currency)}`;
  }

  // Every change to a seat's state goes through here and is stamped, so that an answer fetched
  // before a newer change (a whole-map refresh racing a click) can tell it is stale.
  function paintSeat(seat) {
    seat.stamp = ++state.stamps;
    const node = seat.node;
    if (!node) return;
    node.className = seatClass(seat);
    const label = seatLabel(seat);
    node.setAttribute("aria-label", label);
    node.title = label;
    node.setAttribute("aria-pressed", seat.mine ? "true" : "false");
    node.dataset.status = seat.mine ? "mine" : seat.status;
  }

  function drawMap(seats) {
    state.seats = new Map();
    const fragment = document.createDocumentFragment();
    let rowNode = null;
    let rowName = null;
    let first = null;
    for (const raw of seats) {
      const seat = {
        id: raw.id, label: raw.label, row: raw.row, number: raw.number, price: raw.price, status: raw.status,
        mine: raw.locked_by_me === true, expiresAt: raw.lock_expires_at || null, node: null,
      };
      if (raw.row !== rowName) {
        rowName = raw.row;
        rowNode = document.createElement("div");
        rowNode.className = "row";
        rowNode.setAttribute("role", "row");
        rowNode.setAttribute("aria-label", `Row ${rowName}`);
        const name = document.createElement("span");
        name.className = "row-label";
        name.setAttribute("aria-hidden", "true");
        name.textContent = rowName;
        rowNode.appendChild(name);
        fragment.appendChild(rowNode);
      }
      const node = document.createElement("button");
      node.type = "button";
      node.setAttribute("role", "gridcell");
      node.tabIndex = -1;
      node.dataset.seatId = seat.id;
      node.textContent = seat.label;
      seat.node = node;
      paintSeat(seat);
      rowNode.appendChild(node);
      state.seats.set(seat.id, seat);
      if (!first) first = seat;
    }
    el.map.replaceChildren(fragment);
    el.map.setAttribute("aria-busy", "false");
    if (!seats.length) {
      const empty = document.createElement("p");
      empty.className = "loading";
      empty.textContent = "This event has no seats.";
      el.map.appendChild(empty);
    }
    state.focusedSeat = null;
    if (first) setFocusable(first);
    describePrices(seats);
    summarise();
    renderBasket();
    performance.mark("map-drawn", { detail: { seats: seats.length } }); // read by bench/browser.py
  }

  function describePrices(seats) {
    if (!seats.length) { el.priceNote.textContent = ""; return; }
    let low = Infinity;
    let high = -Infinity;
    for (const seat of seats) {
      const value = cents(seat.price);
      low = Math.min(low, value);
      high = Math.max(high, value);
    }
    const currency = state.event.currency;
    if (high === 0) el.priceNote.textContent = "Free seats";
    else if (low === high) el.priceNote.textContent = `Price: ${money(low, currency)} a seat`;
    else el.priceNote.textContent = `Prices: ${money(low, currency)} to ${money(high, currency)}`;
  }

  function summarise() {
    const counts = { available: 0, locked: 0, booked: 0 };
    for (const seat of state.seats.values()) counts[seat.status] += 1;
    el.summary.textContent =
      `${counts.available} available · ${counts.locked} held · ${counts.booked} sold · ${state.seats.size} seats`;
  }

  // Roving focus: one seat is in the tab order; arrow keys, Home and End move between seats.
  function setFocusable(seat, focus = false) {
    if (state.focusedSeat && state.focusedSeat.node) state.focusedSeat.node.tabIndex = -1;
    state.focusedSeat = seat;
    seat.node.tabIndex = 0;
    if (focus) seat.node.focus();
  }

  function neighbour(node, key) {
    const row = node.parentElement;
    const inRow = Array.from(row.querySelectorAll(".seat"));
    const index = inRow.indexOf(node);
    if (key === "ArrowLeft") return inRow[index - 1];
    if (key === "ArrowRight") return inRow[index + 1];
    if (key === "Home") return inRow[0];
    if (key === "End") return inRow[inRow.length - 1];
    let other = key === "ArrowUp" ? row.previousElementSibling : row.nextElementSibling;
    while (other && !other.classList.contains("row")) {
      other = key === "ArrowUp" ? other.previousElementSibling : other.nextElementSibling;
    }
    if (!other) return null;
    const seats = other.querySelectorAll(".seat");
    return seats[Math.min(index, seats.length - 1)];
  }

  el.map.addEventListener("keydown", (event) => {
    const node = event.target.closest(".seat");
    if (!node || !["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End"].includes(event.key)) return;
    const next = neighbour(node, event.key);
    event.preventDefault();
    if (next) setFocusable(state.seats.get(Number(next.dataset.seatId)), true);
  });

  el.map.addEventListener("click", (event) => {
    const node = event.target.closest(".seat");
    if (!node) return;
    const seat = state.seats.get(Number(node.dataset.seatId));
    setFocusable(seat);
    toggleSeat(seat);
  });

  async function toggleSeat(seat) {
    if (!state.tokens) {
      notify("Sign in or create an account to hold seats.");
      el.email.focus();
      return;
    }
    if (seat.node.classList.contains("busy")) return;
    const generation = state.generation;
    seat.node.classList.add("busy");
    clearNotice();
    try {
      if (seat.mine) {
        const answer = await api("DELETE", `/seats/${seat.id}/lock`);
        if (generation !== state.generation) return;
        applySeat(answer.seat);
        announce(`Seat ${seat.label} released.`);
      } else {
        const answer = await api("POST", `/seats/${seat.id}/lock`);
        if (generation !== state.generation) return;
        applySeat(answer.seat);
        announce(`Seat ${seat.label} is held for you.`);
      }
    } catch (error) {
      if (generation !== state.generation) return;
      fail(error);
      if (error instanceof ApiError && ["seat_locked", "seat_booked", "lock_expired", "seat_not_locked"].includes(error.code)) {
        refreshSeat(seat.id);
      }
    } finally {
      seat.node.classList.remove("busy");
    }
  }

  // A seat as an API answer gives it (with locked_by_me / lock_expires_at for its holder); an answer
  // to a request made before the seat's latest update (`asked`, a stamp) is stale and ignored.
  function applySeat(raw, asked = Infinity) {
    if (!updateSeat(raw, asked)) return;
    summarise();
    renderBasket();
  }

  // The seat's state from an API answer, repainted; false when the answer is stale (or no such seat).
  function updateSeat(raw, asked) {
    const seat = state.seats.get(raw.id);
    if (!seat || seat.stamp > asked) return false;
    seat.status = raw.status;
    seat.mine = raw.locked_by_me === true;
    seat.expiresAt = raw.lock_expires_at || null;
    paintSeat(seat);
    return true;
  }

  async function refreshSeat(seatId) {
    const asked = state.stamps;
    try {
      const answer = await api("GET", `/seats/${seatId}`);
      applySeat(answer.seat, asked);
    } catch (error) {
      if (error.name !== "AbortError") console.warn("seat refresh failed", error);
    }
  }

  // A change from the feed: the status only (the feed tells nobody who holds a seat).
  // Returns the seat when it was mine and is no longer held (my hold or my checkout ran out).
  function applyChange(change) {
    const seat = state.seats.get(change.seat_id);
    if (!seat) return null;
    const lost = seat.mine && change.status === "available";
    seat.status = change.status;
    if (change.status !== "locked") {
      seat.mine = false;
      seat.expiresAt = null;
    }
    paintSeat(seat); // a hold of mine that ran out and was taken by someone else: tick() notices the time
    return lost ? seat : null;
  }

  function holdsLost(seats) {
    const order = state.order;
    if (order && seats.some((seat) => order.seat_ids.includes(seat.id))) {
      state.order = null;
      showOrder();
      notify(PLAIN.order_expired);
      return;
    }
    const labels = seats.map((seat) => seat.label).join(", ");
    notify(`Your hold on seat${seats.length === 1 ? "" : "s"} ${labels} ran out.`);
  }

  // ---- Following the change feed --------------------------------------------------------------------

  async function follow(eventId, cursor, generation, signal) {
    let failures = 0;
    while (generation === state.generation) {
      try {
        const feed = await api("GET", `/events/${eventId}/changes?since=${cursor}&wait=${FEED_WAIT_SECONDS}`,
          { auth: false, signal });
        if (generation !== state.generation) return;
        failures = 0;
        if (el.noticeText.dataset.feed === "down") { clearNotice(); el.noticeText.dataset.feed = ""; }
        const lost = [];
        for (const change of feed.changes) {
          const seat = applyChange(change);
          if (seat) lost.push(seat);
        }
        cursor = feed.cursor;
        if (feed.changes.length) { summarise(); renderBasket(); }
        if (lost.length) holdsLost(lost);
      } catch (error) {
        if (generation !== state.generation || error.name === "AbortError") return;
        failures += 1;
        if (error instanceof ApiError && error.status === 400) {
          // The cursor is no longer valid (say, the database was restored): start over.
          loadEvent(eventId);
          return;
        }
        if (failures >= 3) {
          notify(plainWords(error));
          el.noticeText.dataset.feed = "down";
        }
        await sleep(Math.min(30000, 1000 * 2 ** Math.min(failures, 5)));
      }
    }
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // ---- Events ---------------------------------------------------------------------------------------

  async function loadEvents() {
    const answer = await api("GET", "/events", { auth: false });
    el.eventSelect.replaceChildren();
    for (const event of answer.events) {
      const option = document.createElement("option");
      option.value = event.id;
      const when = event.starts_at ? ` · ${new Date(event.starts_at).toLocaleString()}` : "";
      option.textContent = `${event.name}${when}`;
      el.eventSelect.appendChild(option);
    }
    if (!answer.events.length) {
      el.map.replaceChildren(Object.assign(document.createElement("p"), {
        className: "loading", textContent: "No events yet. Seed one with: flask --app wsgi seed-demo",
      }));
      return;
    }
    const wanted = Number(new URLSearchParams(location.search).get("event"));
    const chosen = answer.events.find((event) => event.id === wanted) || answer.events[0];
    el.eventSelect.value = String(chosen.id);
    await loadEvent(chosen.id, answer.events);
  }

  async function loadEvent(eventId, known) {
    const generation = ++state.generation;
    if (state.feedAbort) state.feedAbort.abort(); // the old event's held request frees its server thread
    state.feedAbort = new AbortController();
    const signal = state.feedAbort.signal;
    el.map.setAttribute("aria-busy", "true");
    try {
      const event = (known && known.find((item) => item.id === eventId)) ||
        (await api("GET", `/events/${eventId}`, { auth: false })).event;
      // The cursor first, then the map: a change in between is replayed by the feed, never lost.
      const feed = await api("GET", `/events/${eventId}/changes`, { auth: false });
      const map = await api("GET", `/events/${eventId}/seats`);
      if (generation !== state.generation) return;
      state.event = event;
      drawMap(map.seats);
      follow(eventId, feed.cursor, generation, signal);
      await loadOrder(generation);
    } catch (error) {
      if (generation === state.generation) fail(error);
    }
  }

  // After signing in: the same map, now knowing which seats are mine; updated in place (no redraw,
  // so focus and a click in progress are kept).
  async function refreshMap() {
    if (!state.event) return;
    const generation = state.generation;
    const asked = state.stamps;
    try {
      const map = await api("GET", `/events/${state.event.id}/seats`);
      if (generation !== state.generation) return;
      for (const raw of map.seats) updateSeat(raw, asked); // a seat changed here since we asked keeps its newer state
      summarise();
      await loadOrder(generation);
    } catch (error) {
      if (generation === state.generation) fail(error);
    }
  }

  el.eventSelect.addEventListener("change", () => {
    const eventId = Number(el.eventSelect.value);
    const url = new URL(location.href);
    url.searchParams.set("event", eventId);
    history.replaceState(null, "", url);
    state.order = null;
    showTickets(null);
    loadEvent(eventId);
  });

  // ---- Signing in --------------------------------------------------------------------------------------

  function credentials() {
    return { email: el.email.value.trim(), password: el.password.value };
  }

  async function signIn(register) {
    const { email, password } = credentials();
    if (!email || !password) {
      notify("Enter your email and a password (at least 8 characters).");
      (email ? el.password : el.email).focus();
      return;
    }
    el.signIn.disabled = el.register.disabled = true;
    clearNotice();
    try {
      if (register) await api("POST", "/auth/register", { body: { email, password }, auth: false });
      const tokens = await api("POST", "/auth/login", { body: { email, password }, auth: false });
      saveTokens({ access_token: tokens.access_token, refresh_token: tokens.refresh_token });
      el.password.value = "";
      await showAccount();
      if (register) notify("Your account is ready. Pick your seats.", "info");
      await refreshMap();
    } catch (error) {
      fail(error);
    } finally {
      el.signIn.disabled = el.register.disabled = false;
    }
  }

  async function showAccount() {
    if (!state.tokens) { signedOut(); return; }
    try {
      state.user = (await api("GET", "/auth/me")).user;
      el.who.textContent = state.user.name || state.user.email;
      el.signedOut.hidden = true;
      el.signedIn.hidden = false;
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) fail(error);
    }
  }

  function signedOut(message) {
    saveTokens(null);
    state.user = null;
    state.order = null;
    el.signedIn.hidden = true;
    el.signedOut.hidden = false;
    for (const seat of state.seats.values()) {
      if (seat.mine) { seat.mine = false; paintSeat(seat); }
    }
    renderBasket();
    showOrder();
    if (message) notify(message);
  }

  el.authForm.addEventListener("submit", (event) => { event.preventDefault(); signIn(false); });
  el.register.addEventListener("click", () => signIn(true));
  el.signOut.addEventListener("click", async () => {
    try { await api("POST", "/auth/logout"); } catch { /* signing out locally is what matters */ }
    signedOut();
    announce("Signed out.");
  });
  el.noticeClose.addEventListener("click", clearNotice);

  // ---- Basket, checkout, payment, tickets ----------------------------------------------------------------

  function mySeats() {
    return Array.from(state.seats.values()).filter((seat) => seat.mine);
  }

  function renderBasket() {
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
    el.basketEmpty.hidden = mine.length > 0 || Boolean(state.order);
    el.basketTotal.hidden = mine.length === 0;
    el.basketTotal.textContent = `Total: ${money(total, state.event ? state.event.currency : "USD")}`;
    el.checkout.hidden = mine.length === 0 || Boolean(state.order);
    el.checkout.textContent = `Check out ${mine.length} seat${mine.length === 1 ? "" : "s"}`;
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
        seat.mine = false;
        paintSeat(seat);
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
  setInterval(tick, 1000);

  el.checkout.addEventListener("click", async () => {
    const seatIds = mySeats().map((seat) => seat.id);
    if (!seatIds.length) return;
    el.checkout.disabled = true;
    clearNotice();
    try {
      const answer = await api("POST", "/orders", { body: { seat_ids: seatIds } });
      state.order = answer.order;
      for (const seat of seatIds.map((id) => state.seats.get(id))) seat.expiresAt = answer.order.expires_at;
      showOrder();
      el.pay.focus();
    } catch (error) {
      fail(error);
      if (error instanceof ApiError && error.details && error.details.unavailable) {
        error.details.unavailable.forEach(refreshSeat);
      }
    } finally {
      el.checkout.disabled = false;
    }
  });

  function showOrder() {
    const order = state.order;
    el.order.hidden = !order;
    if (order) {
      const labels = order.seat_ids.map((id) => (state.seats.get(id) || { label: `#${id}` }).label);
      el.orderSummary.textContent =
        `Order ${order.id}: seat${labels.length === 1 ? "" : "s"} ${labels.join(", ")}. Total ${money(cents(order.total), order.currency)}.`;
      const free = cents(order.total) === 0;
      el.cards.hidden = free; // a free order is paid without a card
      el.pay.textContent = free ? "Get tickets" : `Pay ${money(cents(order.total), order.currency)}`;
    }
    renderBasket();
  }

  async function loadOrder(generation) {
    if (!state.tokens) { showOrder(); return; }
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

  el.pay.addEventListener("click", async () => {
    const order = state.order;
    if (!order) return;
    const card = document.querySelector('input[name="card"]:checked').value;
    const body = cents(order.total) === 0 ? {} : { payment_token: card };
    el.pay.disabled = el.cancelOrder.disabled = true;
    clearNotice();
    announce("Paying…");
    try {
      const answer = await api("POST", `/orders/${order.id}/pay`, {
        body, headers: { "Idempotency-Key": newKey() },
      });
      state.order = null;
      for (const ticket of answer.order.tickets) {
        const seat = state.seats.get(ticket.seat_id);
        if (seat) { seat.status = "booked"; seat.mine = false; seat.expiresAt = null; paintSeat(seat); }
      }
      summarise();
      showOrder();
      showTickets(answer.order);
      announce("Payment accepted. Your tickets are below.");
    } catch (error) {
      fail(error);
      if (error instanceof ApiError && ["payment_declined", "order_expired", "order_not_payable"].includes(error.code)) {
        releaseOrderLocally(order);
      }
    } finally {
      el.pay.disabled = el.cancelOrder.disabled = false;
    }
  });

  el.cancelOrder.addEventListener("click", async () => {
    const order = state.order;
    if (!order) return;
    el.pay.disabled = el.cancelOrder.disabled = true;
    try {
      await api("POST", `/orders/${order.id}/cancel`);
      releaseOrderLocally(order);
      notify("Your order was cancelled and its seats released.", "info");
    } catch (error) {
      fail(error);
    } finally {
      el.pay.disabled = el.cancelOrder.disabled = false;
    }
  });

  function releaseOrderLocally(order) {
    state.order = null;
    for (const id of order.seat_ids) {
      const seat = state.seats.get(id);
      if (seat && seat.mine) { seat.mine = false; seat.expiresAt = null; seat.status = "available"; paintSeat(seat); }
    }
    order.seat_ids.forEach(refreshSeat);
    summarise();
    showOrder();
  }

  function showTickets(order) {
    el.tickets.hidden = !order;
    el.ticketList.replaceChildren();
    if (!order) return;
    for (const ticket of order.tickets) {
      const item = document.createElement("li");
      const code = document.createElement("code");
      code.textContent = ticket.code;
      item.append(`Seat ${ticket.label}: `, code);
      el.ticketList.appendChild(item);
    }
    $("tickets-title").focus();
  }
  el.ticketsDone.addEventListener("click", () => showTickets(null));

  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // ---- Start -------------------------------------------------------------------------------------------

  async function start() {
    if (state.tokens) await showAccount();
    try {
      await loadEvents();
    } catch (error) {
      fail(error);
    }
  }
  start();
})();
