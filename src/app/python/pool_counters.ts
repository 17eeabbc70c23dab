/**
 * What a {@linkcode PythonPool} counts, kept twice: in the server's totals (`Stats.wsgi…`) and in
 * its app's entry (`Stats.pythonApps`), so `/_metrics` shows each app and the sum of all. The
 * gauges are added as changes, never set, so several pools (apps, or an app's old and new pool
 * during a reload) add up, and a closed pool has taken back all it added.
 *
 * @module
 */

import { bump, type Stats } from "../../stats.ts";
import type { PythonAppCounter, PythonAppStats } from "../../python_app_stats.ts";

/** The gauges' fields, on `Stats` and on an app's entry alike. */
type GaugeHolder = Pick<PythonAppStats, "wsgiWorkers" | "wsgiBusy" | "wsgiIdle" | "wsgiQueued">;

/** Adds gauge changes to `s`. */
function addGauges(s: GaugeHolder, workers: number, busy: number, idle: number, queued: number): void {
  s.wsgiWorkers += workers;
  s.wsgiBusy += busy;
  s.wsgiIdle += idle;
  s.wsgiQueued += queued;
}

/**
 * One pool's counters.
 *
 * @example
 * ```ts
 * import { Stats } from "../../stats.ts";
 * import { PoolCounters } from "./pool_counters.ts";
 * const stats = new Stats();
 * const blog = new PoolCounters(stats, "blog");
 * blog.gauges(2, 2, 0);
 * blog.count("wsgiBadGateway");
 * console.log(stats.wsgiWorkers, stats.pythonApps.get("blog")?.wsgiBadGateway); // 2 1
 * blog.close();
 * console.log(stats.wsgiWorkers, stats.pythonApps.has("blog")); // 0 false
 * ```
 */
export class PoolCounters {
  /** The app's name in `/_metrics`. */
  readonly name: string;
  #stats: Stats;
  #app: PythonAppStats | undefined;
  #workers = 0;
  #idle = 0;
  #queued = 0;
  #closed = false;

  /** Counters of the app `name`, in `stats`. */
  constructor(stats: Stats, name: string) {
    this.name = name;
    this.#stats = stats;
    this.#app = stats.takePythonApp(name);
  }

  /** Counts one 502, 503, 504 or retry. */
  count(field: PythonAppCounter): void {
    this.#stats[field]++;
    if (this.#app !== undefined) this.#app[field]++;
  }

  /** Counts a worker replaced for `cause`. */
  restarted(cause: string): void {
    bump(this.#stats.wsgiRestarts, cause);
    if (this.#app !== undefined) bump(this.#app.wsgiRestarts, cause);
  }

  /**
   * The pool has `workers` alive, `idle` of them waiting, and `queued` requests waiting (ignored
   * once closed: a worker that starts late is not counted).
   */
  gauges(workers: number, idle: number, queued: number): void {
    const dw = workers - this.#workers;
    const di = idle - this.#idle;
    const dq = queued - this.#queued;
    if (this.#closed || (dw === 0 && di === 0 && dq === 0)) return;
    this.#workers = workers;
    this.#idle = idle;
    this.#queued = queued;
    addGauges(this.#stats, dw, dw - di, di, dq);
    if (this.#app !== undefined) addGauges(this.#app, dw, dw - di, di, dq);
  }

  /** The pool stopped: its gauges go to zero, and its app's entry once no other pool uses it. */
  close(): void {
    this.gauges(0, 0, 0);
    this.#closed = true;
    if (this.#app !== undefined) this.#stats.releasePythonApp(this.name, this.#app);
    this.#app = undefined;
  }
}
