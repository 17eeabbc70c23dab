/**
 * The last-head memo's pieces (`RequestParser` keeps the memo): how long a head it remembers for
 * a keep-alive client that repeats its head byte for byte, and the copy each repeat gets, with
 * arrays of its own so that a handler's changes never reach the next.
 *
 * @module
 */

import { HeaderList } from "../http/headers.ts";

/** Heads up to this long are remembered for a keep-alive client that repeats its head byte for byte. */
export const MEMO_HEAD_BYTES = 1024;

/** A copy of `h` with arrays of its own (the fields' strings are shared: strings do not change). */
export function copyHead<H extends { readonly headers: HeaderList }>(h: H): H {
  // Spread: a field added to RequestHead is copied too.
  return { ...h, headers: new HeaderList(h.headers.names.slice(), h.headers.values.slice()) };
}
