/**
 * What this process may learn about itself under the permissions it runs with. Deno 2.9 opens
 * /proc only with `--allow-all`, which `deno task start` does not grant; so the open-file limit
 * comes from a child shell's `ulimit -n` (a child inherits the limit; `--allow-run` permits it),
 * open descriptors from a child that lists them (`metrics/open_fds.ts`), and what only /proc can
 * tell of this process (virtual memory) is left out, which the start-up log says once
 * ({@linkcode probeNotes}).
 *
 * @module
 */

import { UNKNOWN_LIMIT_BUDGET } from "./tls/budget.ts";

/** What {@linkcode probeProcess} found. */
export interface ProcessProbe {
  /** The soft open-file limit (RLIMIT_NOFILE); undefined when it could not be read. */
  fdLimit: number | undefined;
  /** Why the limit is unknown, when it is. */
  fdLimitProblem?: string;
  /** Whether /proc/self can be read (with `--allow-all` on Linux). */
  procReadable: boolean;
}

let probed: Promise<ProcessProbe> | undefined;
let known: ProcessProbe | undefined;

/** The number in `ulimit -n`'s output; Infinity for "unlimited"; undefined for anything else. */
export function parseUlimit(out: string): number | undefined {
  const t = out.trim();
  if (t === "unlimited") return Infinity;
  return /^\d+$/.test(t) ? Number(t) : undefined;
}

function readProcLimit(): number | undefined {
  const limits = Deno.readTextFileSync("/proc/self/limits");
  const soft = /^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1];
  return soft === undefined ? undefined : soft === "unlimited" ? Infinity : Number(soft);
}

async function probe(): Promise<ProcessProbe> {
  let procReadable = false;
  try {
    readProcLimit();
    procReadable = true;
  } catch {
    // not permitted (Deno 2.9 without --allow-all) or not Linux
  }
  let fdLimit: number | undefined;
  let fdLimitProblem: string | undefined;
  if (procReadable) fdLimit = readProcLimit();
  else if (Deno.build.os === "windows") fdLimitProblem = "Windows has no open-file limit to read";
  else {
    try {
      const out = await new Deno.Command("sh", { args: ["-c", "ulimit -n"], stdin: "null", stderr: "null" })
        .output();
      fdLimit = out.success ? parseUlimit(new TextDecoder().decode(out.stdout)) : undefined;
      if (fdLimit === undefined) fdLimitProblem = `sh -c 'ulimit -n' exited with ${out.code}`;
    } catch (e) {
      fdLimitProblem = `sh -c 'ulimit -n' could not run (${e instanceof Error ? e.message : e})`;
    }
  }
  known = { fdLimit, procReadable, ...(fdLimitProblem ? { fdLimitProblem } : {}) };
  return known;
}

/**
 * Probes once per isolate (later calls share the first answer).
 *
 * @example
 * ```ts ignore
 * const { fdLimit } = await probeProcess();
 * ```
 */
export function probeProcess(): Promise<ProcessProbe> {
  return probed ??= probe();
}

/** The probe's answer once {@linkcode probeProcess} has settled; undefined before. */
export function probedProcess(): ProcessProbe | undefined {
  return known;
}

/**
 * One start-up line for what cannot work under the granted permissions; undefined when all can.
 *
 * @example
 * ```ts ignore
 * const note = probeNotes(await probeProcess());
 * if (note) console.log(`ferry: ${note}`);
 * ```
 */
export function probeNotes(p: ProcessProbe): string | undefined {
  const notes: string[] = [];
  if (!p.procReadable) {
    notes.push(
      "/_metrics leaves out process_virtual_memory_bytes " +
        "(only /proc tells it, and Deno opens /proc only with --allow-all; process_open_fds is counted by a child)",
    );
  }
  if (p.fdLimit === undefined) {
    notes.push(
      `the open-file limit is unknown (${p.fdLimitProblem}): the TLS handshake budget is ${UNKNOWN_LIMIT_BUDGET} ` +
        "sockets and /_metrics leaves out process_max_fds",
    );
  }
  return notes.length > 0 ? notes.join("; ") : undefined;
}
