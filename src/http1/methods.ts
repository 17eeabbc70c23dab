/**
 * Request methods for HTTP/1.1's parser: the set ferry knows (`src/http/methods.ts`, anything
 * else is answered 501) and the parser's way of naming the common ones without building a string
 * byte by byte.
 *
 * @module
 */

import { latin1 } from "./chars.ts";

export { KNOWN_METHODS } from "../http/methods.ts";

/** Common methods without building a string byte by byte. */
export function methodName(buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  const b0 = buf[start];
  if (n === 3 && b0 === 0x47 && buf[start + 1] === 0x45 && buf[start + 2] === 0x54) return "GET";
  if (n === 4 && buf[start + 1] === 0x4f) {
    if (b0 === 0x50 && buf[start + 2] === 0x53 && buf[start + 3] === 0x54) return "POST";
  }
  if (
    n === 4 && b0 === 0x48 && buf[start + 1] === 0x45 && buf[start + 2] === 0x41 && buf[start + 3] === 0x44
  ) {
    return "HEAD";
  }
  if (n === 3 && b0 === 0x50 && buf[start + 1] === 0x55 && buf[start + 2] === 0x54) return "PUT";
  return latin1(buf, start, end);
}
