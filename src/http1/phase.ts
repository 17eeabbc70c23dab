/**
 * Where an HTTP/1.1 connection is (its phase) and when its waits end (deadlines): the phases
 * that timeouts and graceful shutdown look at, and how the header, keep-alive and body deadlines
 * are counted. A deadline is a time (ms since the epoch) that the server's sweeper checks.
 *
 * @module
 */

import { turnNow } from "../net/clock.ts";
import type { ResolvedOptions } from "../options.ts";
import type { TimeoutKind } from "../stats.ts";

/** Where a connection is, for timeouts and graceful shutdown. */
export const PHASE = {
  idle: 0, // between requests (or before the first), nothing received
  head: 1, // inside a request head
  handler: 2, // a handler is running
  body: 3, // a handler waits for body bytes
  linger: 4, // closing: discarding what the client still sends
  closed: 5,
  tunnel: 6, // switched to another protocol (101): the tunnel's deadline and drain apply
} as const;
/** One of {@linkcode PHASE}. */
export type Phase = typeof PHASE[keyof typeof PHASE];

/** At a graceful shutdown, how long a connection that has sent nothing yet may still do so. */
export const NEW_CONNECTION_GRACE_MS = 1000;

/** The deadline `seconds` from now; Infinity for 0 (no limit). */
export function deadlineAfter(seconds: number): number {
  return seconds > 0 ? turnNow() + seconds * 1000 : Infinity;
}

/**
 * When a body read starting `now` must end: `bodyTimeout` from now, and no later than the
 * minimum body rate allows for the `bodyBytes` received since `bodyStart` (after a grace of
 * `bodyTimeout`).
 */
export function bodyDeadline(
  options: ResolvedOptions,
  bodyStart: number,
  bodyBytes: number,
  now: number,
): number {
  const { bodyTimeout, minBodyRate } = options;
  let deadline = bodyTimeout > 0 ? now + bodyTimeout * 1000 : Infinity;
  if (minBodyRate > 0) {
    const floor = bodyStart + (bodyTimeout + bodyBytes / minBodyRate) * 1000;
    if (floor < deadline) deadline = floor;
  }
  return deadline;
}

/**
 * The timeout a deadline passed in `phase` counts as, after `served` requests; undefined in the
 * phases whose deadline is no timeout of a request (linger, tunnel, handler, closed).
 */
export function timeoutKind(phase: Phase, served: number): TimeoutKind | undefined {
  if (phase === PHASE.idle) return served === 0 ? "header" : "keepalive";
  if (phase === PHASE.head) return "header";
  if (phase === PHASE.body) return "body";
  return undefined;
}
