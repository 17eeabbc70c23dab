/**
 * HTTP/2 error codes (RFC 9113 §7) and the two kinds of error (§5.4): a connection error ends the
 * connection with GOAWAY, a stream error resets one stream with RST_STREAM.
 *
 * @module
 */

/** The error codes of RFC 9113 §7. */
export const ERROR = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

/** The name of each error code, for logs and metrics labels. */
export const ERROR_NAME: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(ERROR).map(([name, code]) => [code, name]),
);

/** The name of `code`, or `UNKNOWN_0x..` for codes RFC 9113 does not define. */
export function errorName(code: number): string {
  return ERROR_NAME[code] ?? `UNKNOWN_0x${code.toString(16)}`;
}

/**
 * A connection error (§5.4.1): the connection sends GOAWAY with `code` and closes.
 *
 * @example
 * ```ts
 * import { ConnectionError, ERROR } from "./errors.ts";
 * const e = new ConnectionError(ERROR.PROTOCOL_ERROR, "DATA on stream 0");
 * console.log(e.code); // 1
 * ```
 */
export class ConnectionError extends Error {
  /** Creates the error with its code and a reason (sent as GOAWAY debug data). */
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/** A stream error (§5.4.2): the stream is reset with `code`; the connection goes on. */
export class StreamError extends Error {
  /** Creates the error for `streamId` with its code and a reason. */
  constructor(readonly streamId: number, readonly code: number, message: string) {
    super(message);
  }
}
