/**
 * The permission flags users run ferry with: read once from `deno.json`'s `start` task, so that
 * every test that starts ferry as a child grants exactly what `deno task start` grants (never
 * `--allow-all`).
 *
 * @module
 */

import { fromFileUrl } from "./paths.ts";

/** The repository root. */
const ROOT_DIR: string = fromFileUrl(new URL("../../", import.meta.url));

/** `deno.json`'s tasks. */
export function tasks(): Record<string, string> {
  const config = JSON.parse(Deno.readTextFileSync(`${ROOT_DIR}deno.json`));
  return config.tasks as Record<string, string>;
}

/** The `--allow-*`, `--deny-*` and `--unstable-*` flags of a task's command line, in order. */
export function permissionFlags(command: string): string[] {
  return command.split(/\s+/).filter((w) => /^--(allow|deny|unstable)-/.test(w));
}

let cachedFlags: readonly string[] | undefined;

/**
 * The start task's permission flags (e.g. `--allow-net`, ..., `--unstable-net`), read from
 * `deno.json` on first use (never at load time: a test that is skipped reads nothing).
 */
export function startFlags(): readonly string[] {
  return cachedFlags ??= permissionFlags(tasks().start);
}

/** `deno` arguments that run `main.ts` with `args` as `deno task start` would. */
export function ferryArgs(args: string[]): string[] {
  return ["run", ...startFlags(), `${ROOT_DIR}main.ts`, ...args];
}

/** The same command for a shell (`exec`-able), quoted. */
export function ferryShell(args: string[]): string {
  const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  return [Deno.execPath(), ...ferryArgs(args)].map(q).join(" ");
}
