/**
 * Joining byte arrays: the one helper for "these pieces, as one array", used wherever pieces
 * collect (a body read whole, a WebSocket message, frames queued for a worker).
 *
 * @module
 */

/**
 * The pieces as one array; a single piece comes back as it is (no copy). `total` is their
 * length, when the caller already knows it.
 *
 * @example
 * ```ts
 * import { concatBytes } from "./bytes.ts";
 * concatBytes([new Uint8Array([1]), new Uint8Array([2, 3])]); // Uint8Array [1, 2, 3]
 * ```
 */
export function concatBytes(parts: readonly Uint8Array[], total = -1): Uint8Array {
  if (parts.length === 1) return parts[0];
  if (total < 0) {
    total = 0;
    for (const p of parts) total += p.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
