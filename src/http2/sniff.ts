/**
 * `--h2c`: on the plain listener, the first bytes tell an HTTP/2 client with prior knowledge
 * (RFC 9113 §3.3: it opens with the connection preface) from an HTTP/1.1 one. Reading stops at
 * the first byte that differs from the preface, so HTTP/1.1 costs one read as before.
 *
 * @module
 */

import { PREFACE } from "./frames.ts";

/** What the sniffer saw: the protocol and the bytes read (handed to that protocol). */
export interface Sniffed {
  /** Whether the bytes are the HTTP/2 preface. */
  h2: boolean;
  /** The bytes read so far. */
  bytes: Uint8Array;
}

/**
 * Reads until the bytes are the whole preface or differ from it; null when the peer closed or
 * sent nothing within `timeoutSeconds` (0: no limit).
 *
 * @example
 * ```ts ignore
 * const seen = await sniffPreface(conn, 10);
 * if (seen?.h2) startHttp2(conn, seen.bytes);
 * ```
 */
export async function sniffPreface(conn: Deno.Conn, timeoutSeconds: number): Promise<Sniffed | null> {
  const buf = new Uint8Array(4096);
  let n = 0;
  let timedOut = false;
  const timer = timeoutSeconds > 0
    ? setTimeout(() => {
      timedOut = true;
      try {
        conn.close();
      } catch {
        // already closed
      }
    }, timeoutSeconds * 1000)
    : undefined;
  try {
    for (;;) {
      let got: number | null;
      try {
        got = await conn.read(buf.subarray(n));
      } catch {
        return null;
      }
      if (got === null || timedOut) return null;
      n += got;
      const m = Math.min(n, PREFACE.length);
      let same = true;
      for (let i = 0; i < m && same; i++) same = buf[i] === PREFACE[i];
      if (!same) return { h2: false, bytes: buf.slice(0, n) };
      if (n >= PREFACE.length) return { h2: true, bytes: buf.slice(0, n) };
    }
  } finally {
    clearTimeout(timer);
  }
}
