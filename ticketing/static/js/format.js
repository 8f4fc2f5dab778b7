// Money and time as the page shows them.

import { serverNow } from "./api.js";

/** A price as the API writes it ("25.00") in whole cents. */
export const cents = (price) => Math.round(parseFloat(price) * 100);

/** An amount in cents in the reader's locale, e.g. "$25.00". */
export function money(amountCents, currency) {
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(amountCents / 100);
  } catch {
    return `${(amountCents / 100).toFixed(2)} ${currency}`;
  }
}

/** Whole seconds from the server's now until an ISO time (0 once it has passed). */
export function remaining(isoTime) {
  return Math.max(0, Math.round((Date.parse(isoTime) - serverNow()) / 1000));
}

/** Seconds as "m:ss". */
export function clockText(seconds) {
  const minutes = Math.floor(seconds / 60);
  return `${minutes}:${String(seconds % 60).padStart(2, "0")}`;
}
