/**
 * The descriptor budget of TLS handshakes: a TLS socket whose peer never sends its ClientHello
 * holds its descriptor until the peer acts (Deno 2.9.6), so the HTTPS listener pauses past a share
 * of the process's open-file limit, and plain HTTP keeps the descriptors it needs.
 *
 * @module
 */

/** The budget when the open-file limit is unknown or unlimited. */
export const UNKNOWN_LIMIT_BUDGET = 4096;

/**
 * How many TLS sockets may be in a handshake (or abandoned in one) at once: a quarter of the
 * process's open-file limit (RLIMIT_NOFILE, see `src/process_probe.ts`), at least 16;
 * {@linkcode UNKNOWN_LIMIT_BUDGET} where the limit is unknown or unlimited.
 *
 * @example
 * ```ts
 * import { tlsSocketBudget } from "./budget.ts";
 * console.log(tlsSocketBudget(256)); // 64
 * ```
 */
export function tlsSocketBudget(fdLimit: number | undefined): number {
  if (fdLimit === undefined || !Number.isFinite(fdLimit)) return UNKNOWN_LIMIT_BUDGET;
  return Math.max(16, Math.floor(fdLimit / 4));
}
