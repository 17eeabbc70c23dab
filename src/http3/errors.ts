/**
 * HTTP/3's error codes (RFC 9114 §8.1) and QPACK's (RFC 9204 §6), and the error a parser throws
 * for a connection error: the code and a reason, which the connection sends in its
 * CONNECTION_CLOSE (Deno's `QuicConn.close()` takes both).
 *
 * @module
 */

/** The error codes ferry sends or reads. */
export const H3 = {
  NO_ERROR: 0x100,
  GENERAL_PROTOCOL_ERROR: 0x101,
  INTERNAL_ERROR: 0x102,
  STREAM_CREATION_ERROR: 0x103,
  CLOSED_CRITICAL_STREAM: 0x104,
  FRAME_UNEXPECTED: 0x105,
  FRAME_ERROR: 0x106,
  EXCESSIVE_LOAD: 0x107,
  ID_ERROR: 0x108,
  SETTINGS_ERROR: 0x109,
  MISSING_SETTINGS: 0x10a,
  REQUEST_REJECTED: 0x10b,
  REQUEST_CANCELLED: 0x10c,
  REQUEST_INCOMPLETE: 0x10d,
  MESSAGE_ERROR: 0x10e,
  CONNECT_ERROR: 0x10f,
  VERSION_FALLBACK: 0x110,
  QPACK_DECOMPRESSION_FAILED: 0x200,
  QPACK_ENCODER_STREAM_ERROR: 0x201,
  QPACK_DECODER_STREAM_ERROR: 0x202,
} as const;

const NAMES = new Map<number, string>(Object.entries(H3).map(([k, v]) => [v, k]));

/** The name of an error code (`"FRAME_UNEXPECTED"`), or its hex value when unknown. */
export function h3ErrorName(code: number): string {
  return NAMES.get(code) ?? `0x${code.toString(16)}`;
}

/**
 * A connection error (RFC 9114 §8): the connection closes with `code`.
 *
 * @example
 * ```ts
 * import { H3, H3Error } from "./errors.ts";
 * const e = new H3Error(H3.FRAME_UNEXPECTED, "DATA on the control stream");
 * console.log(e.code, e.message); // 261 "DATA on the control stream"
 * ```
 */
export class H3Error extends Error {
  /** An error with its code and reason. */
  constructor(readonly code: number, message: string) {
    super(message);
  }
}
