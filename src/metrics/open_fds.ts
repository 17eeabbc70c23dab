/**
 * `process_open_fds` under the start task's permissions. Deno opens /proc only with `--allow-all`,
 * so the server does not read it: a child shell (`--allow-run`) lists `/proc/<pid>/fd` of this
 * process and counts the lines. `/_metrics` refreshes the count as it is scraped, at most once a
 * second; scrapes in between (and while a count runs) share the last one.
 *
 * @module
 */

/** How old a count may be before a scrape asks for a new one. */
export const OPEN_FDS_MAX_AGE_MS = 1000;

/** Counts this process's open descriptors; undefined when it cannot. */
export type FdCounter = () => Promise<number | undefined>;

/**
 * Counts with a child `sh -c 'ls /proc/<pid>/fd | wc -l'` (Linux; elsewhere, or without
 * `--allow-run`, undefined). The pipe the child writes to is one of the descriptors counted.
 */
export async function countWithChild(): Promise<number | undefined> {
  if (Deno.build.os !== "linux") return undefined;
  try {
    const out = await new Deno.Command("sh", {
      args: ["-c", `ls /proc/${Deno.pid}/fd | wc -l`],
      stdin: "null",
      stderr: "null",
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim();
    return out.success && /^\d+$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined; // no --allow-run, or no sh
  }
}

/**
 * The last count and its refresh, at most once per {@linkcode OPEN_FDS_MAX_AGE_MS}.
 *
 * @example
 * ```ts
 * import { OpenFds } from "./open_fds.ts";
 * const fds = new OpenFds(() => Promise.resolve(12));
 * await fds.refresh();
 * console.log(fds.value); // 12
 * ```
 */
export class OpenFds {
  /** The last count; undefined before the first or when counting is not possible. */
  value: number | undefined;
  /** How many counts ran (each one a child process with the default counter). */
  counts = 0;
  #count: FdCounter;
  #at = -Infinity;
  #running: Promise<void> | undefined;

  /** A counter over `count` (by default {@linkcode countWithChild}). */
  constructor(count: FdCounter = countWithChild) {
    this.#count = count;
  }

  /** Counts again when the last count is older than a second (`now`: ms); shares a count that runs. */
  refresh(now: number = Date.now()): Promise<void> {
    if (now - this.#at < OPEN_FDS_MAX_AGE_MS) return Promise.resolve();
    return this.#running ??= this.#run(now);
  }

  async #run(now: number): Promise<void> {
    try {
      this.counts++;
      this.value = await this.#count();
      this.#at = now;
    } finally {
      this.#running = undefined;
    }
  }
}

/** The process's counter, shared by every `/_metrics` of this isolate. */
export const OPEN_FDS: OpenFds = new OpenFds();
