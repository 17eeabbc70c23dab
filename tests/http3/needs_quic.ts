/**
 * Test options for HTTP/3 tests: the permissions they need (see `tests/helpers/needs.ts`) and
 * Deno's QUIC, which only `--unstable-net` exposes; without it the test is skipped with a line
 * that says so.
 *
 * @module
 */

import { needs } from "../helpers/needs.ts";

/** Whether this run has Deno's QUIC API (`--unstable-net`). */
export const HAS_QUIC: boolean = typeof (Deno as { QuicEndpoint?: unknown }).QuicEndpoint === "function";

/** `needs(...names)`, and skipped without `--unstable-net`. */
export function needsQuic(...names: Deno.PermissionName[]): { ignore: boolean } {
  const base = needs(...names);
  if (!HAS_QUIC && !base.ignore) {
    console.warn(
      "SKIPPED: an HTTP/3 test needs Deno's QUIC: run with --unstable-net (deno task test has it)",
    );
  }
  return { ignore: base.ignore || !HAS_QUIC };
}
