/**
 * Telling a vanished peer from a bug: the errors a socket operation fails with when the client
 * went away or the socket was closed under it, which end a connection quietly; and an error's
 * text for the log.
 *
 * @module
 */

/**
 * Errors that mean the peer went away or the socket was closed under a pending operation.
 *
 * @example
 * ```ts
 * import { isConnectionError } from "./peer_errors.ts";
 * isConnectionError(new Deno.errors.BrokenPipe("gone")); // true
 * ```
 */
export function isConnectionError(e: unknown): boolean {
  return e instanceof Deno.errors.BrokenPipe ||
    e instanceof Deno.errors.ConnectionReset ||
    e instanceof Deno.errors.ConnectionAborted ||
    e instanceof Deno.errors.NotConnected ||
    e instanceof Deno.errors.BadResource ||
    e instanceof Deno.errors.Interrupted ||
    e instanceof Deno.errors.UnexpectedEof ||
    (e instanceof Error && /os error (104|32|107)|connection (reset|closed)|broken pipe/i.test(e.message));
}

/** An error's stack or message, for logs. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.stack ?? `${e.name}: ${e.message}`;
  return String(e);
}
