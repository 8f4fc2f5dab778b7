// A seat plan: every seat drawn at its x/y in ONE SVG (a circle, or a square for an accessible seat),
// coloured by category and marked by status, with section names and the focal point. Built as one
// string and parsed once, so the 20,000-seat arena draws in one go; a seat's later change sets one
// class attribute. Selection: click, shift-click (the box between two seats), drag a box, or the
// keyboard (arrows move, Space selects, Shift+arrows select as they move, Escape clears).

const SVG = "http://www.w3.org/2000/svg";
const STATUS_WORDS = { available: "available", locked: "held", booked: "sold", blocked: "blocked" };
export const PALETTE_SIZE = 8; // category colours k0..k7 in office.css; more categories reuse them
const DRAG_PIXELS = 5;
// Above this many seats a plan is drawn in bulk: one <path> per look (category, status, selection)
// holding every seat of that look, instead of one element per seat; Chromium paints it about twice
// as fast (see docs/office.md). Seats are then found under the pointer from their coordinates.
export const BULK_SEATS = 3000;

const seatShape = (seat) => (seat.accessible
  ? `M${round(seat.x - 0.38)} ${round(seat.y - 0.38)}h.76v.76h-.76z`
  : `M${round(seat.x - 0.42)} ${seat.y}a.42 .42 0 1 0 .84 0a.42 .42 0 1 0 -.84 0z`);

const round = (value) => Math.round(value * 100) / 100;
const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

/** Where to write each straight row's name: left of its first seat (plans of up to 5,000 seats). */
function rowEnds(seats) {
  if (seats.length > 5000) return [];
  const rows = new Map();
  for (const seat of seats) {
    if (seat.row === undefined) continue;
    const key = `${seat.section}\u0000${seat.row}`;
    const row = rows.get(key);
    if (!row) rows.set(key, { name: seat.row, x: seat.x, y: seat.y, straight: true });
    else {
      if (seat.y !== row.y) row.straight = false;
      if (seat.x < row.x) row.x = seat.x;
    }
  }
  return [...rows.values()].filter((row) => row.straight);
}

export class SeatPlan {
  /**
   * `container` gets the tools and the drawing. Options: `label` (the plan's accessible name),
   * `selectable`, `onSelect(indexes)` after the selection changes, `announce(text)` for screen readers.
   */
  constructor(container, { label, selectable = false, onSelect = () => {}, announce = () => {} } = {}) {
    this.selectable = selectable;
    this.onSelect = onSelect;
    this.announce = announce;
    this.seats = [];
    this.categories = new Map();
    this.chosen = new Set();
    this.cursor = -1;
    this.anchor = -1;
    this.zoom = 1;
    container.replaceChildren();
    const tools = document.createElement("div");
    tools.className = "plan-tools";
    for (const [text, step, name] of [["−", 0.5, "Zoom out"], ["+", 2, "Zoom in"], ["Fit", 0, "Fit the plan to the page"]]) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary zoom";
      button.textContent = text;
      button.setAttribute("aria-label", name);
      button.addEventListener("click", () => this.setZoom(step ? this.zoom * step : 1));
      tools.append(button);
    }
    this.info = document.createElement("p");
    this.info.className = "plan-info";
    this.info.setAttribute("aria-hidden", "true"); // the same words reach screen readers by announce()
    tools.append(this.info);
    this.scroller = document.createElement("div");
    this.scroller.className = "plan-scroll";
    this.svg = document.createElementNS(SVG, "svg");
    this.svg.setAttribute("class", selectable ? "plan-svg selectable" : "plan-svg");
    this.svg.setAttribute("tabindex", "0");
    this.svg.setAttribute("role", "application");
    this.svg.setAttribute("aria-roledescription", "seat plan");
    this.svg.setAttribute("aria-label", label || "Seat plan");
    this.scroller.append(this.svg);
    container.append(tools, this.scroller);
    this.listen();
  }

  /** Draw `seats` ({label, category, accessible, status, x, y}); returns {seats, built, painted} in ms. */
  async draw(seats, { focalPoint = null, sections = [] } = {}) {
    const started = performance.now();
    this.seats = seats;
    this.chosen.clear();
    this.cursor = this.anchor = -1;
    this.categories = new Map();
    let minX = Infinity; let minY = Infinity; let maxX = -Infinity; let maxY = -Infinity;
    this.bulk = seats.length > BULK_SEATS;
    this.grid = new Map();
    const parts = [];
    for (let i = 0; i < seats.length; i += 1) {
      const seat = seats[i];
      if (seat.category !== null && !this.categories.has(seat.category)) this.categories.set(seat.category, this.categories.size);
      if (seat.x < minX) minX = seat.x;
      if (seat.x > maxX) maxX = seat.x;
      if (seat.y < minY) minY = seat.y;
      if (seat.y > maxY) maxY = seat.y;
      if (this.bulk) {
        const cell = `${Math.round(seat.x)},${Math.round(seat.y)}`;
        if (this.grid.has(cell)) this.grid.get(cell).push(i); else this.grid.set(cell, [i]);
        continue;
      }
      const cls = this.classOf(i);
      parts.push(seat.accessible
        ? `<rect data-i="${i}" x="${round(seat.x - 0.38)}" y="${round(seat.y - 0.38)}" width=".76" height=".76" rx=".12" class="${cls}"/>`
        : `<circle data-i="${i}" cx="${seat.x}" cy="${seat.y}" r=".42" class="${cls}"/>`);
    }
    if (this.bulk) parts.push(this.bulkPaths());
    if (!seats.length) { minX = minY = 0; maxX = maxY = 1; }
    if (focalPoint) {
      minX = Math.min(minX, focalPoint.x); maxX = Math.max(maxX, focalPoint.x);
      minY = Math.min(minY, focalPoint.y); maxY = Math.max(maxY, focalPoint.y);
    }
    const extent = Math.max(maxX - minX, maxY - minY, 4);
    this.fontSize = Math.max(0.5, extent / 60);
    const pad = 1 + this.fontSize * 1.6;
    const width = maxX - minX + 2 * pad;
    this.svg.setAttribute("viewBox", `${round(minX - pad)} ${round(minY - pad)} ${round(width)} ${round(maxY - minY + 2 * pad)}`);
    this.naturalWidth = Math.round(width * 34); // px: a seat about 28 px wide at most, however few seats there are
    this.svg.innerHTML = `<g class="seats">${parts.join("")}</g><g class="marks"></g>`;
    this.svg.dataset.seats = String(seats.length);
    this.svg.dataset.drawing = this.bulk ? "bulk" : "seats";
    this.nodes = this.svg.firstChild.children;
    const marks = this.svg.lastChild;
    for (const box of sections) {
      marks.append(this.text((box.minX + box.maxX) / 2, box.minY - 0.6 - this.fontSize * 0.2, box.name, "section-name"));
    }
    for (const row of rowEnds(seats)) marks.append(this.text(row.x - 1, row.y + this.fontSize * 0.35, row.name, "row-name"));
    if (focalPoint) {
      const size = Math.max(0.45, extent / 150);
      const focal = document.createElementNS(SVG, "path");
      focal.setAttribute("class", "focal");
      focal.setAttribute("stroke-width", round(size / 3));
      const { x, y } = focalPoint;
      focal.setAttribute("d", `M${x - size} ${y}H${x + size}M${x} ${y - size}V${y + size}`);
      const title = document.createElementNS(SVG, "title");
      title.textContent = "Focal point: where the best seats are";
      focal.append(title);
      marks.append(focal);
    }
    this.ring = document.createElementNS(SVG, "circle");
    this.ring.setAttribute("class", "cursor");
    this.ring.setAttribute("r", ".7");
    this.ring.setAttribute("visibility", "hidden");
    this.lasso = document.createElementNS(SVG, "rect");
    this.lasso.setAttribute("class", "lasso");
    this.lasso.setAttribute("visibility", "hidden");
    marks.append(this.ring, this.lasso);
    this.setZoom(this.zoom);
    const built = performance.now() - started;
    await nextFrame();
    return { seats: seats.length, built, painted: performance.now() - started };
  }

  text(x, y, words, className) {
    const node = document.createElementNS(SVG, "text");
    node.setAttribute("x", round(x));
    node.setAttribute("y", round(y));
    node.setAttribute("class", className);
    node.setAttribute("font-size", round(this.fontSize));
    node.textContent = words;
    return node;
  }

  classOf(i) {
    const seat = this.seats[i];
    const category = seat.category === null ? "kn" : `k${this.categories.get(seat.category) % PALETTE_SIZE}`;
    let cls = `s ${category} is-${seat.status}`;
    if (this.chosen.has(i)) cls += " sel";
    if (seat.problem) cls += " bad";
    return cls;
  }

  repaint(i) {
    if (!this.bulk) { this.nodes[i].setAttribute("class", this.classOf(i)); return; }
    if (this.redrawPending) return; // in bulk, every path is redrawn once for a batch of changes
    this.redrawPending = true;
    requestAnimationFrame(() => {
      this.redrawPending = false;
      this.svg.firstChild.innerHTML = this.bulkPaths();
    });
  }

  /** Every seat as one path per look (its classes): the bulk drawing. */
  bulkPaths() {
    const looks = new Map();
    for (let i = 0; i < this.seats.length; i += 1) {
      const cls = this.classOf(i);
      const shape = seatShape(this.seats[i]);
      if (looks.has(cls)) looks.get(cls).push(shape); else looks.set(cls, [shape]);
    }
    return [...looks].map(([cls, shapes]) => `<path class="${cls}" d="${shapes.join("")}"/>`).join("");
  }

  /** The category's colour class (for a legend). */
  categoryClass(category) {
    return category === null ? "kn" : `k${(this.categories.get(category) ?? 0) % PALETTE_SIZE}`;
  }

  setStatus(i, status) {
    if (this.seats[i].status === status) return;
    this.seats[i].status = status;
    this.repaint(i);
  }

  /** Mark seats (a layout problem's row) so they stand out; `test(seat)` picks them. */
  markProblems(test) {
    this.seats.forEach((seat, i) => {
      const bad = Boolean(test(seat));
      if (Boolean(seat.problem) !== bad) { seat.problem = bad; this.repaint(i); }
    });
  }

  setZoom(zoom) {
    this.zoom = Math.min(32, Math.max(1, zoom));
    // The CSSOM, not a style attribute: the CSP allows it. Zoomed out, the whole plan fits the box.
    this.svg.style.width = this.zoom === 1 ? `min(100%, ${this.naturalWidth || 600}px)` : `${this.zoom * 100}%`;
    this.svg.classList.toggle("fit", this.zoom === 1);
  }

  /** Words for one seat (what the pointer or the keyboard is on). */
  describe(i) {
    const seat = this.seats[i];
    const parts = [`Seat ${seat.label}`];
    if (seat.category) parts.push(seat.category);
    if (seat.accessible) parts.push("wheelchair place");
    parts.push(STATUS_WORDS[seat.status] || seat.status);
    if (this.chosen.has(i)) parts.push("selected");
    return parts.join(", ");
  }

  // Selection.
  selection() {
    return [...this.chosen].sort((a, b) => a - b);
  }

  choose(indexes, mode = "add") {
    let changed = false;
    for (const i of indexes) {
      const has = this.chosen.has(i);
      const want = mode === "toggle" ? !has : mode === "add";
      if (want === has) continue;
      if (want) this.chosen.add(i); else this.chosen.delete(i);
      this.repaint(i);
      changed = true;
    }
    if (changed) this.onSelect(this.selection());
  }

  clearSelection() {
    this.choose([...this.chosen], "remove");
  }

  inBox(x1, y1, x2, y2) {
    const [left, right] = x1 < x2 ? [x1, x2] : [x2, x1];
    const [top, bottom] = y1 < y2 ? [y1, y2] : [y2, y1];
    const found = [];
    this.seats.forEach((seat, i) => {
      if (seat.x >= left - 0.4 && seat.x <= right + 0.4 && seat.y >= top - 0.4 && seat.y <= bottom + 0.4) found.push(i);
    });
    return found;
  }

  point(event) {
    const matrix = this.svg.getScreenCTM();
    if (!matrix) return { x: 0, y: 0 };
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
    return { x: point.x, y: point.y };
  }

  seatOf(event) {
    if (this.bulk) return this.seatAt(this.point(event));
    const i = event.target && event.target.dataset ? event.target.dataset.i : undefined;
    return i === undefined ? -1 : Number(i);
  }

  /** The seat drawn at a point of the plan (bulk drawings), or -1. */
  seatAt({ x, y }) {
    let best = -1;
    let bestDistance = 0.5 ** 2;
    for (let dx = -1; dx <= 1; dx += 1) {
      for (let dy = -1; dy <= 1; dy += 1) {
        for (const i of this.grid.get(`${Math.round(x) + dx},${Math.round(y) + dy}`) || []) {
          const distance = (this.seats[i].x - x) ** 2 + (this.seats[i].y - y) ** 2;
          if (distance < bestDistance) { bestDistance = distance; best = i; }
        }
      }
    }
    return best;
  }

  moveCursor(i) {
    this.cursor = i;
    const seat = this.seats[i];
    this.ring.setAttribute("cx", seat.x);
    this.ring.setAttribute("cy", seat.y);
    if (document.activeElement === this.svg) this.ring.setAttribute("visibility", "visible");
    const words = this.describe(i);
    this.info.textContent = words;
    this.announce(words);
  }

  /** The nearest seat from the cursor in an arrow's direction (straight lines first). */
  neighbour(key) {
    const here = this.seats[this.cursor];
    const [dx, dy] = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[key];
    let best = -1;
    let bestScore = Infinity;
    this.seats.forEach((seat, i) => {
      const along = (seat.x - here.x) * dx + (seat.y - here.y) * dy;
      if (along <= 0.01) return;
      const across = Math.abs((seat.x - here.x) * dy) + Math.abs((seat.y - here.y) * dx);
      const score = along * 3 + across * (dy ? 1 : 4);
      if (score < bestScore) { bestScore = score; best = i; }
    });
    return best;
  }

  listen() {
    let down = null;
    this.svg.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      down = { x: event.clientX, y: event.clientY, at: this.point(event), seat: this.seatOf(event), dragging: false };
      if (this.selectable) this.svg.setPointerCapture(event.pointerId);
    });
    this.svg.addEventListener("pointermove", (event) => {
      const over = this.seatOf(event);
      if (!down && over >= 0) this.info.textContent = this.describe(over);
      if (!down || !this.selectable) return;
      if (!down.dragging && Math.hypot(event.clientX - down.x, event.clientY - down.y) < DRAG_PIXELS) return;
      down.dragging = true;
      const at = this.point(event);
      this.lasso.setAttribute("x", Math.min(at.x, down.at.x));
      this.lasso.setAttribute("y", Math.min(at.y, down.at.y));
      this.lasso.setAttribute("width", Math.abs(at.x - down.at.x));
      this.lasso.setAttribute("height", Math.abs(at.y - down.at.y));
      this.lasso.setAttribute("visibility", "visible");
    });
    this.svg.addEventListener("pointerup", (event) => {
      if (!down) return;
      const started = down;
      down = null;
      this.lasso.setAttribute("visibility", "hidden");
      if (!this.selectable) {
        if (started.seat >= 0) this.moveCursor(started.seat);
        return;
      }
      if (started.dragging) {
        const at = this.point(event);
        const found = this.inBox(started.at.x, started.at.y, at.x, at.y);
        this.choose(found, "add");
        this.announce(`${found.length} seats added to the selection; ${this.chosen.size} selected.`);
        return;
      }
      const i = started.seat;
      if (i < 0) return;
      if (event.shiftKey && this.anchor >= 0) {
        const a = this.seats[this.anchor];
        const b = this.seats[i];
        this.choose(this.inBox(a.x, a.y, b.x, b.y), "add");
      } else {
        this.choose([i], "toggle");
      }
      this.anchor = i;
      this.moveCursor(i);
    });
    this.svg.addEventListener("pointercancel", () => { down = null; this.lasso.setAttribute("visibility", "hidden"); });
    this.svg.addEventListener("pointerleave", () => { if (!down) this.info.textContent = ""; });
    this.svg.addEventListener("focus", () => {
      if (this.cursor < 0 && this.seats.length) this.moveCursor(0);
      else if (this.cursor >= 0) this.ring.setAttribute("visibility", "visible");
    });
    this.svg.addEventListener("blur", () => this.ring.setAttribute("visibility", "hidden"));
    this.svg.addEventListener("keydown", (event) => {
      if (!this.seats.length) return;
      if (event.key.startsWith("Arrow")) {
        event.preventDefault();
        const next = this.cursor < 0 ? 0 : this.neighbour(event.key);
        if (next < 0) return;
        if (event.shiftKey && this.selectable) this.choose([next], "add");
        this.moveCursor(next);
      } else if ((event.key === " " || event.key === "Enter") && this.selectable && this.cursor >= 0) {
        event.preventDefault();
        this.choose([this.cursor], "toggle");
        this.anchor = this.cursor;
        this.moveCursor(this.cursor);
      } else if (event.key === "Escape" && this.selectable && this.chosen.size) {
        this.clearSelection();
        this.announce("Selection cleared.");
      } else if (event.key === "+" || event.key === "=") {
        this.setZoom(this.zoom * 2);
      } else if (event.key === "-") {
        this.setZoom(this.zoom / 2);
      }
    });
  }
}
