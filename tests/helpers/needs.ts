/**
 * The one rule for tests that need more than the network: a test declares the permissions it
 * needs, and under `deno test --allow-net` (the command users run) it is skipped with a line that
 * names them, instead of failing on `NotCapable`. `deno task test` grants everything and runs it.
 *
 * @module
 */

/** A permission, or `unstable-net` (`--unstable-net`: TLS listeners with SO_REUSEPORT, QUIC). */
export type Need = Deno.PermissionName | "unstable-net";

/** The flag of a need. */
function flag(name: Need): string {
  return name === "unstable-net" ? "--unstable-net" : `--allow-${name}`;
}

/** Whether `--unstable-net` is on (its QUIC API is there). */
function unstableNet(): boolean {
  return typeof (Deno as unknown as { QuicEndpoint?: unknown }).QuicEndpoint === "function";
}

/** Which of `names` this run has not granted. */
export function missing(...names: Need[]): Need[] {
  return names.filter((name) =>
    name === "unstable-net" ? !unstableNet() : Deno.permissions.querySync({ name }).state !== "granted"
  );
}

/** The file and line of the test that called {@linkcode needs} (from the call stack). */
function caller(): string {
  const lines = (new Error().stack ?? "").split("\n").slice(1);
  const at = lines.find((l) => !l.includes("/helpers/needs.ts") && !l.includes("/needs_quic.ts")) ?? "";
  const m = at.match(/(?:file:\/\/)?(\/[^\s)]+):(\d+):\d+/);
  if (m === null) return "a test";
  const tests = m[1].lastIndexOf("/tests/");
  return `${tests >= 0 ? m[1].slice(tests + 1) : m[1]}:${m[2]}`;
}

/**
 * Test options (`Deno.test(name, needs("read", "run"), fn)`) that skip the test when one of
 * `names` is not granted, printing one line that names the test's place and the flags it needs.
 *
 * @example
 * ```ts
 * import { needs } from "./needs.ts";
 * Deno.test("reads a fixture", needs("read"), () => {});
 * ```
 */
export function needs(...names: Need[]): { ignore: boolean } {
  const absent = missing(...names);
  if (absent.length > 0) {
    console.warn(`SKIPPED: ${caller()} needs ${names.map(flag).join(" ")} (deno task test grants it)`);
  }
  return { ignore: absent.length > 0 };
}
