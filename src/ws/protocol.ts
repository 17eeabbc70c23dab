/**
 * RFC 6455's numbers: opcodes (§5.2, §11.8), close codes (§7.4, IANA's registry), and the error a
 * peer's protocol violation raises, which carries the close code to fail the connection with.
 *
 * @module
 */

/** Frame opcodes (RFC 6455 §5.2). */
export const OPCODE = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;

/** Close codes ferry sends or reports (RFC 6455 §7.4.1). */
export const CLOSE = {
  /** The purpose of the connection has been fulfilled. */
  normal: 1000,
  /** The server is going down. */
  goingAway: 1001,
  /** The peer broke the protocol. */
  protocolError: 1002,
  /** A text message was not UTF-8. */
  invalidData: 1007,
  /** A policy was violated. */
  policy: 1008,
  /** A message was larger than `--ws-max-message-bytes`. */
  tooBig: 1009,
  /** The server met an unexpected condition. */
  internalError: 1011,
  /** The server is short of a resource for now (its memory budget for incoming messages). */
  tryAgainLater: 1013,
  /** Reported when a close frame carried no code (never sent). */
  noStatus: 1005,
  /** Reported when the connection ended without a close frame (never sent). */
  abnormal: 1006,
} as const;

/**
 * Whether a peer may send `code` in a close frame: the registered codes 1000–1003 and 1007–1014,
 * and 3000–4999 for libraries and applications; 1004–1006, 1015 and everything else are not.
 *
 * @example
 * ```ts
 * import { isValidCloseCode } from "./protocol.ts";
 * isValidCloseCode(1000); // true
 * isValidCloseCode(1005); // false
 * ```
 */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/**
 * A violation by the peer: the connection is failed with close code `code` (RFC 6455 §7.1.7).
 *
 * @example
 * ```ts
 * import { CLOSE, WsProtocolError } from "./protocol.ts";
 * const e = new WsProtocolError(CLOSE.protocolError, "unmasked client frame");
 * console.log(e.code); // 1002
 * ```
 */
export class WsProtocolError extends Error {
  /** The close code to send. */
  readonly code: number;

  /** An error failing the connection with `code`, `reason` going into the close frame. */
  constructor(code: number, reason: string) {
    super(reason);
    this.name = "WsProtocolError";
    this.code = code;
  }
}
