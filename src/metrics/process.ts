/**
 * The standard process metrics of Prometheus client libraries, from what works under the start
 * task's permissions: resident memory from `Deno.memoryUsage()`, CPU time from `node:process`'s
 * `cpuUsage()`, the open-file limit from `src/process_probe.ts`, open descriptors from a child
 * process that lists them (`open_fds.ts`; read directly where /proc can be read). Virtual memory
 * only /proc tells; it is reported where /proc can be read (`--allow-all`) and left out otherwise,
 * which the start-up log says.
 *
 * @module
 */

import process from "node:process";
import { probedProcess } from "../process_probe.ts";
import { OPEN_FDS } from "./open_fds.ts";

/** One sample of a process metric. */
export interface ProcessSample {
  /** Metric name. */
  name: string;
  /** Prometheus type. */
  type: string;
  /** Help text. */
  help: string;
  /** The value. */
  value: number;
}

/** When this process started, in seconds since the epoch. */
const START_SECONDS = Math.round(performance.timeOrigin / 1000);

/**
 * The samples, in the order client libraries give them.
 *
 * @example
 * ```ts
 * import { processSamples } from "./process.ts";
 * console.log(processSamples().some((s) => s.name === "process_resident_memory_bytes")); // true
 * ```
 */
export function processSamples(): ProcessSample[] {
  const out: ProcessSample[] = [];
  const add = (name: string, type: string, help: string, value: number) =>
    out.push({ name, type, help, value });
  const cpu = process.cpuUsage();
  add(
    "process_cpu_seconds_total",
    "counter",
    "Total user and system CPU time spent in seconds.",
    (cpu.user + cpu.system) / 1e6,
  );
  add(
    "process_start_time_seconds",
    "gauge",
    "Start time of the process since unix epoch in seconds.",
    START_SECONDS,
  );
  add("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", Deno.memoryUsage().rss);
  const probe = probedProcess();
  if (probe?.procReadable) {
    try {
      const status = Deno.readTextFileSync("/proc/self/status");
      const vm = /VmSize:\s+(\d+)/.exec(status)?.[1];
      if (vm !== undefined) {
        add("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", Number(vm) * 1024);
      }
      let fds = 0;
      for (const _ of Deno.readDirSync("/proc/self/fd")) fds++;
      add("process_open_fds", "gauge", "Number of open file descriptors.", fds);
    } catch {
      // /proc went away: these two are left out, as without permission
    }
  } else if (OPEN_FDS.value !== undefined) {
    // Counted by a child process (the metrics handler refreshes it, at most once a second).
    add("process_open_fds", "gauge", "Number of open file descriptors.", OPEN_FDS.value);
  }
  const limit = probe?.fdLimit;
  if (limit !== undefined && Number.isFinite(limit)) {
    add("process_max_fds", "gauge", "Maximum number of open file descriptors.", limit);
  }
  return out;
}
