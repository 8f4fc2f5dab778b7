// A venue's layout as the server lays it out (ticketing/services/layouts.py, lay_out): the same labels,
// positions and defaults, so the preview shows what an event made from it will have. Tolerant: parts
// that are not shaped right are skipped and counted (the server names them when the venue is created).

const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
const number = (value, fallback) => (typeof value === "number" && Number.isFinite(value) ? value : fallback);

/**
 * Every seat of the layout: {label, section, row, number, category, accessible, status, x, y,
 * sectionIndex, rowIndex, seatIndex}; `skipped` counts the parts that could not be drawn.
 */
export function layOut(layout) {
  const seats = [];
  let skipped = 0;
  const sections = isObject(layout) && Array.isArray(layout.sections) ? layout.sections : null;
  if (!sections) return { seats, sections: [], focalPoint: null, skipped: 1 };
  const several = sections.length > 1;
  sections.forEach((section, sectionIndex) => {
    if (!isObject(section) || !Array.isArray(section.rows)) { skipped += 1; return; }
    const name = typeof section.name === "string" ? section.name.trim() : "";
    section.rows.forEach((row, rowIndex) => {
      if (!isObject(row) || typeof row.name !== "string") { skipped += 1; return; }
      const rowName = row.name.trim();
      const rowY = number(row.y, rowIndex);
      const prefix = several ? `${name} ${rowName}` : rowName;
      const base = { section: name, row: rowName, sectionIndex, rowIndex };
      if (Number.isInteger(row.seats) && row.seats > 0) {
        for (let n = 1; n <= Math.min(row.seats, 100000); n += 1) {
          seats.push({ ...base, label: prefix + n, number: n, category: null, accessible: false,
            status: "available", x: n, y: rowY, seatIndex: n - 1 });
        }
      } else if (Array.isArray(row.seats)) {
        row.seats.forEach((spec, seatIndex) => {
          if (!isObject(spec) || !Number.isInteger(spec.number)) { skipped += 1; return; }
          const category = typeof spec.category === "string" && spec.category.trim() ? spec.category.trim() : null;
          seats.push({ ...base, label: prefix + spec.number, number: spec.number, category,
            accessible: spec.accessible === true, status: spec.blocked === true ? "blocked" : "available",
            x: number(spec.x, spec.number), y: number(spec.y, rowY), seatIndex });
        });
      } else {
        skipped += 1;
      }
    });
  });
  return { seats, sections: sectionBoxes(seats, several), focalPoint: focalPoint(layout, seats), skipped };
}

/** The focal point as given, else the middle of the first row (as the server fills it in). */
function focalPoint(layout, seats) {
  if (isObject(layout.focal_point) && Number.isFinite(layout.focal_point.x) && Number.isFinite(layout.focal_point.y)) {
    return { x: layout.focal_point.x, y: layout.focal_point.y };
  }
  const first = seats.filter((seat) => seat.sectionIndex === 0 && seat.rowIndex === 0);
  if (!first.length) return null;
  const xs = first.map((seat) => seat.x);
  const ys = first.map((seat) => seat.y);
  return { x: (Math.min(...xs) + Math.max(...xs)) / 2, y: (Math.min(...ys) + Math.max(...ys)) / 2 };
}

/** Each named section's box (to write its name above it); none for a venue of one unnamed section. */
export function sectionBoxes(seats, labelled = true) {
  const boxes = new Map();
  for (const seat of seats) {
    if (!seat.section) continue;
    let box = boxes.get(seat.section);
    if (!box) {
      box = { name: seat.section, minX: seat.x, maxX: seat.x, minY: seat.y, maxY: seat.y };
      boxes.set(seat.section, box);
    }
    if (seat.x < box.minX) box.minX = seat.x;
    if (seat.x > box.maxX) box.maxX = seat.x;
    if (seat.y < box.minY) box.minY = seat.y;
    if (seat.y > box.maxY) box.maxY = seat.y;
  }
  return labelled || boxes.size > 1 ? [...boxes.values()] : [];
}

/** The categories the seats use, in order of first appearance (null, seats without one, left out). */
export function categoriesOf(seats) {
  const seen = new Set();
  for (const seat of seats) if (seat.category !== null) seen.add(seat.category);
  return [...seen];
}

/**
 * Where a problem's path (`sections[1].rows[0].seats[3].number`) is, in words from the layout
 * itself: `Section "Balcony", row B, the 4th seat listed (number)`.
 */
export function placeOf(layout, path) {
  const words = [];
  const parts = [...path.matchAll(/(\w+)(?:\[(\d+)\])?/g)].map((match) => [match[1], match[2]]);
  let node = layout;
  for (const [key, index] of parts) {
    const item = isObject(node) ? node[key] : undefined;
    if (index === undefined) {
      if (key !== "sections" && key !== "rows" && key !== "seats") words.push(key.replace("_", " "));
      node = item;
      continue;
    }
    const entry = Array.isArray(item) ? item[Number(index)] : undefined;
    const position = Number(index) + 1;
    if (key === "sections") {
      const name = isObject(entry) && typeof entry.name === "string" && entry.name.trim();
      words.push(name ? `section “${name}”` : `section ${position}`);
    } else if (key === "rows") {
      const name = isObject(entry) && typeof entry.name === "string" && entry.name.trim();
      words.push(name ? `row ${name}` : `row ${position}`);
    } else if (key === "seats") {
      const seatNumber = isObject(entry) && Number.isInteger(entry.number) ? ` (number ${entry.number})` : "";
      words.push(`seat ${position} in the list${seatNumber}`);
    } else {
      words.push(`${key} ${position}`);
    }
    node = entry;
  }
  if (!words.length) return "The layout";
  const text = words.join(", ");
  return text[0].toUpperCase() + text.slice(1);
}

/** The section and row indexes a path points into (to mark its seats on the preview), or null. */
export function rowOfPath(path) {
  const match = /^sections\[(\d+)\](?:\.rows\[(\d+)\])?/.exec(path);
  if (!match) return null;
  return { sectionIndex: Number(match[1]), rowIndex: match[2] === undefined ? null : Number(match[2]) };
}
