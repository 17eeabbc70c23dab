/**
 * Hop-by-hop fields (RFC 9110 §7.6.1): a proxy removes `Connection` and every field it names,
 * and the fields that only ever describe one connection (`Keep-Alive`, `Proxy-Connection`, `TE`,
 * `Transfer-Encoding`, `Upgrade`), in both directions, on every response, a 101 included
 * (Caddy's CVE-2026-55458 passed fields a 101's `Connection` named).
 *
 * @module
 */

/** The fields that are always hop-by-hop. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "transfer-encoding",
  "upgrade",
]);

/**
 * The names a message's fields say are hop-by-hop: {@linkcode HOP_BY_HOP} and every name a
 * `Connection` field lists (`close` and `keep-alive` beside them included), lower-cased.
 *
 * @example
 * ```ts
 * import { hopByHopNames } from "./hop_by_hop.ts";
 * const drop = hopByHopNames(["connection", "x-secret"], ["close, X-Secret", "1"]);
 * console.log(drop.has("x-secret"), drop.has("te")); // true true
 * ```
 */
export function hopByHopNames(names: readonly string[], values: readonly string[]): ReadonlySet<string> {
  let out: Set<string> | undefined; // made only when Connection names a field beyond the usual ones
  for (let i = 0; i < names.length; i++) {
    if (names[i] !== "connection") continue;
    for (const t of values[i].split(",")) {
      const n = t.trim().toLowerCase();
      if (n === "" || n === "close" || HOP_BY_HOP.has(n)) continue;
      (out ??= new Set(HOP_BY_HOP)).add(n);
    }
  }
  return out ?? HOP_BY_HOP;
}

/** Whether any `Connection` field lists `token` (any case). */
export function connectionHas(names: readonly string[], values: readonly string[], token: string): boolean {
  for (let i = 0; i < names.length; i++) {
    if (names[i] !== "connection") continue;
    for (const t of values[i].split(",")) if (t.trim().toLowerCase() === token) return true;
  }
  return false;
}
