/**
 * Requests that no mount sees, and what they are answered, on every protocol: `503` while
 * shutting down, `501` for CONNECT (ferry is not a proxy) and for a method it does not know (RFC
 * 9110 §9.1; HTTP/1.1's parser refuses those first), `413` for a body declared larger than the
 * mount allows (§15.5.14: refused from the declared length, unread), and `OPTIONS *` (§9.3.7),
 * which is about the server itself.
 *
 * @module
 */

import { STATUS } from "./status.ts";
import { KNOWN_METHODS } from "./methods.ts";

/** What the special refusals look at in a request head. */
export interface SpecialHead {
  /** The method. */
  readonly method: string;
  /** The declared body length; -1 for none. */
  readonly contentLength: number;
}

/** The methods ferry's server as a whole allows, for `OPTIONS *`. */
export const SERVER_ALLOW = "GET, HEAD, POST, PUT, DELETE, OPTIONS";

/** A refusal of a request before any mount. */
export interface SpecialRefusal {
  /** The status. */
  status: number;
  /** Why, for the client. */
  message: string;
  /** What it is counted as: `draining` (a drain refusal) or a rejection reason code. */
  code: "draining" | "connect" | "unknown_method" | "body_too_large";
  /** Whether a `Retry-After` goes with it. */
  retry: boolean;
}

/**
 * Whether `head` is one of the requests no mount sees: the refusal for it, or undefined for
 * `OPTIONS *` (answered 204 with {@linkcode SERVER_ALLOW}). Call it only for such requests
 * (draining, CONNECT, an unknown method, a declared body over `limit`, an asterisk target).
 *
 * @example
 * ```ts ignore
 * specialRefusal(head, false, 1024)?.status; // 413 for a 2 KiB Content-Length
 * ```
 */
export function specialRefusal(
  head: SpecialHead,
  draining: boolean,
  limit: number,
): SpecialRefusal | undefined {
  if (draining) {
    return {
      status: STATUS.ServiceUnavailable,
      message: "server is shutting down",
      code: "draining",
      retry: true,
    };
  }
  if (head.method === "CONNECT") {
    return {
      status: STATUS.NotImplemented,
      message: "CONNECT is not supported: ferry is not a proxy",
      code: "connect",
      retry: false,
    };
  }
  if (!KNOWN_METHODS.has(head.method)) {
    return { status: STATUS.NotImplemented, message: "unknown method", code: "unknown_method", retry: false };
  }
  if (head.contentLength > limit) {
    return {
      status: STATUS.ContentTooLarge,
      message: `request body is larger than ${limit} bytes`,
      code: "body_too_large",
      retry: false,
    };
  }
  return undefined;
}
