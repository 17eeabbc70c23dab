/**
 * Live reload: a new config (a `POST /load` body, or the `--config` file again on SIGHUP) is
 * checked, its apps started, its table built, and only then swapped in at once; requests already
 * routed finish on the old routes, and what the old config held and the new one does not is
 * stopped after they end. An invalid config changes nothing: the old one keeps serving. One load
 * at a time; each is counted (`ferry_config_reloads_total{result}`) and logged with what changed.
 *
 * @module
 */

import type { Router } from "../http/dispatch.ts";
import { buildConfig, type BuildContext, type LiveConfig } from "./build.ts";
import { ConfigError, parseConfig } from "./load.ts";
import type { ConfigProblem } from "./validate.ts";

/** What the reloader swaps the table into: the server (its `dispatcher`). */
export interface Swappable {
  /** The route table new requests are routed by. */
  dispatcher: Router;
}

/** The outcome of one load. */
export type LoadResult = { ok: true; changes: string } | { ok: false; problems: readonly ConfigProblem[] };

/**
 * Holds the running config and swaps in new ones.
 *
 * @example
 * ```ts ignore
 * const reloader = new Reloader(server, ctx, live, { baseDir: "/srv", graceMs: 10_000 });
 * await reloader.load(await Deno.readTextFile("ferry.jsonc"));
 * ```
 */
export class Reloader {
  #target: Swappable;
  #ctx: BuildContext;
  #live: LiveConfig;
  #baseDir: string;
  #graceMs: number;
  #queue: Promise<unknown> = Promise.resolve();
  #swapped: ((next: LiveConfig) => Promise<void>) | undefined;

  /** A reloader of `target`, which serves `live` now. */
  constructor(
    target: Swappable,
    ctx: BuildContext,
    live: LiveConfig,
    options: { baseDir: string; graceMs: number; swapped?: (next: LiveConfig) => Promise<void> },
  ) {
    this.#target = target;
    this.#ctx = ctx;
    this.#live = live;
    this.#baseDir = options.baseDir;
    this.#graceMs = options.graceMs;
    this.#swapped = options.swapped;
  }

  /** The running config. */
  get current(): LiveConfig {
    return this.#live;
  }

  /**
   * Loads `source` (JSONC text, or a value parsed from JSON); relative paths resolve against
   * `baseDir` (by default the `--config` file's folder). Waits for loads before it.
   */
  load(source: string | unknown, baseDir = this.#baseDir, why = "admin"): Promise<LoadResult> {
    const run = this.#queue.then(() => this.#load(source, baseDir, why));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #load(source: string | unknown, baseDir: string, why: string): Promise<LoadResult> {
    const { log, stats } = this.#ctx;
    let next: LiveConfig;
    try {
      const config = parseConfig(source, { baseDir, proxy: this.#ctx.proxy !== undefined });
      next = await buildConfig(config, this.#ctx, this.#live);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      stats.configReloadsFailed++;
      log.error("config reload refused; the running config stays", {
        via: why,
        problems: e.problems.map((p) => `${p.path}: ${p.message}`),
      });
      return { ok: false, problems: e.problems };
    }
    const old = this.#live;
    this.#target.dispatcher = next.table; // the swap: every request from now on sees the new routes
    this.#live = next;
    stats.configReloadsOk++;
    const changes = describeChanges(old, next);
    log.info("config reloaded", { via: why, changes });
    // What lives outside the table (the sites' certificates) follows; a failure there is logged.
    await this.#swapped?.(next).catch((e) => log.error("after a reload", { error: String(e) }));
    // Not awaited: the old apps finish their requests in the background.
    old.retire(next, this.#graceMs).catch((e) =>
      log.error("retiring the old config failed", { error: String(e) })
    );
    return { ok: true, changes };
  }
}

/** What a reload changed, in one line: sites and routes, and apps started, kept and stopped. */
export function describeChanges(old: LiveConfig, next: LiveConfig): string {
  const count = (l: LiveConfig) => l.table.sites.reduce((n, s) => n + s.routes.length, 0);
  const parts = [
    `${next.table.sites.length} sites (was ${old.table.sites.length})`,
    `${count(next)} routes (was ${count(old)})`,
  ];
  const started = [...next.apps.values()].filter((a) => old.apps.get(a.name) !== a).map((a) => a.name);
  const kept = [...next.apps.values()].filter((a) => old.apps.get(a.name) === a).map((a) => a.name);
  const stopped = [...old.apps.values()].filter((a) => next.apps.get(a.name) !== a).map((a) => a.name);
  if (started.length > 0) parts.push(`apps started: ${started.join(", ")}`);
  if (kept.length > 0) parts.push(`apps kept: ${kept.join(", ")}`);
  if (stopped.length > 0) parts.push(`apps stopped: ${stopped.join(", ")}`);
  for (const key of ["listen", "admin"] as const) {
    if (JSON.stringify(old.config[key]) !== JSON.stringify(next.config[key])) {
      parts.push(`"${key}" changed: listeners are opened at start, so it takes effect at the next restart`);
    }
  }
  return parts.join("; ");
}
