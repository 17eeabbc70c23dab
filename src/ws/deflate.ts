/**
 * permessage-deflate (RFC 7692): choosing an offer from `Sec-WebSocket-Extensions`, and the
 * per-message compression itself. ferry always answers with `server_no_context_takeover` and
 * `client_no_context_takeover` (§7.1.1), so each message is inflated and deflated on its own:
 * memory per socket stays flat and an inflated message is bounded by `--ws-max-message-bytes`
 * before it is ever whole (zlib stops at the bound).
 *
 * @module
 */

import zlib from "node:zlib";
import { CLOSE, WsProtocolError } from "./protocol.ts";
import { concatBytes } from "../bytes.ts";

/** The parameters of an accepted permessage-deflate offer. */
export interface DeflateParams {
  /** The LZ77 window ferry compresses with (9–15; the client's `server_max_window_bits`). */
  windowBits: number;
  /** The `Sec-WebSocket-Extensions` value to answer with. */
  response: string;
}

/** Splits a header value on `sep` outside quoted strings. */
function splitOutsideQuotes(value: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = "";
  let quoted = false;
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    if (ch === sep && !quoted) {
      parts.push(cur);
      cur = "";
    } else cur += ch;
  }
  parts.push(cur);
  return parts;
}

/** A window size parameter's value: 8–15 with no leading zero, quotes allowed; NaN otherwise. */
function windowBits(value: string | undefined): number {
  if (value === undefined) return NaN;
  const v = value.startsWith('"') && value.endsWith('"') && value.length >= 2 ? value.slice(1, -1) : value;
  return /^(8|9|1[0-5])$/.test(v) ? Number(v) : NaN;
}

/**
 * The first permessage-deflate offer in `headerValues` that ferry can accept, or undefined (the
 * extension is then not used). Offers with unknown or repeated parameters, or invalid values,
 * are declined (RFC 7692 §5, §7.1); so is `server_max_window_bits=8`, which zlib cannot honour.
 *
 * @example
 * ```ts
 * import { chooseDeflate } from "./deflate.ts";
 * chooseDeflate(["permessage-deflate; client_max_window_bits"])?.response;
 * // "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
 * ```
 */
export function chooseDeflate(headerValues: string[]): DeflateParams | undefined {
  for (const value of headerValues) {
    for (const offer of splitOutsideQuotes(value, ",")) {
      const [name, ...rawParams] = splitOutsideQuotes(offer, ";").map((s) => s.trim());
      if (name.toLowerCase() !== "permessage-deflate") continue;
      const params = new Map<string, string | undefined>();
      let ok = true;
      for (const raw of rawParams) {
        if (raw === "") continue;
        const eq = raw.indexOf("=");
        const key = (eq < 0 ? raw : raw.slice(0, eq)).trim().toLowerCase();
        const val = eq < 0 ? undefined : raw.slice(eq + 1).trim();
        if (params.has(key)) ok = false;
        params.set(key, val);
      }
      let bits = 15;
      for (const [key, val] of params) {
        if (key === "server_no_context_takeover" || key === "client_no_context_takeover") {
          if (val !== undefined) ok = false;
        } else if (key === "server_max_window_bits") {
          bits = windowBits(val);
          if (!(bits >= 9)) ok = false; // NaN, or 8 (zlib's raw deflate cannot use a 256-byte window)
        } else if (key === "client_max_window_bits") {
          if (val !== undefined && Number.isNaN(windowBits(val))) ok = false;
        } else ok = false;
      }
      if (!ok) continue;
      let response = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
      if (params.has("server_max_window_bits")) response += `; server_max_window_bits=${bits}`;
      return { windowBits: bits, response };
    }
  }
  return undefined;
}

/** The four bytes a sync flush ends with, removed by the sender and restored by the receiver (§7.2.1). */
const TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);

/**
 * Compresses one message's payload (RFC 7692 §7.2.1), without the trailing `00 00 FF FF`.
 *
 * @example
 * ```ts ignore
 * const wire = deflateMessage(new TextEncoder().encode("hello hello hello"), 15);
 * ```
 */
export function deflateMessage(payload: Uint8Array, bits: number): Uint8Array {
  const out = zlib.deflateRawSync(payload, {
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
    windowBits: bits,
    level: 1,
  });
  return new Uint8Array(out.buffer, out.byteOffset, out.length - TAIL.length);
}

/**
 * Inflates one message from its compressed frames' payloads (RFC 7692 §7.2.2). A message that
 * would inflate past `limit` bytes fails with 1009, corrupt data with 1007.
 *
 * @example
 * ```ts ignore
 * const bytes = inflateMessage([wire], 1 << 20);
 * ```
 */
export function inflateMessage(parts: Uint8Array[], limit: number): Uint8Array {
  const input = concatBytes([...parts, TAIL]);
  try {
    const out = zlib.inflateRawSync(input, {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
      maxOutputLength: Math.max(1, limit),
    });
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  } catch (e) {
    if (e instanceof RangeError) {
      throw new WsProtocolError(CLOSE.tooBig, `inflated message is over the limit of ${limit} bytes`);
    }
    throw new WsProtocolError(CLOSE.invalidData, "invalid compressed data");
  }
}
