/**
 * The supervised pool of Python WSGI workers: it starts them, hands one to each request (or
 * queues the request, within bounds), replaces a worker that dies, times out, grows past its
 * memory bound or has served its share of requests, restarts them one by one with fresh code on
 * reload, and stops them at shutdown. A crash loop backs off.
 *
 * @module
 */

import { join } from "path";
import type { Logger } from "../../log/logger.ts";
import type { Stats } from "../../stats.ts";
import { PoolCounters } from "./pool_counters.ts";
import { PythonWorker, type PythonWorkerSpec, WsgiImportError } from "./python_worker.ts";
import type { ResolvedWsgiOptions } from "./wsgi_options.ts";
import { openPrivateDir, type PrivateDir } from "./private_dir.ts";
import { Deadlines } from "./deadlines.ts";

/**
 * Requests are pipelined to a busy worker only while the app's average service time is under
 * this (ms): a request queued behind another then waits about that long, not behind a slow one.
 */
export const PIPELINE_FAST_MS = 2;

/** Requests one worker takes at once: 1 (plain WSGI), its threads, or the ASGI concurrency. */
export function workerCapacity(o: ResolvedWsgiOptions): number {
  return o.interface === "asgi" ? o.concurrency : o.threads;
}

/** No worker could be had: the queue is full or the wait timed out (503). */
export class PoolBusy extends Error {
  /** Why. */
  constructor(message: string) {
    super(message);
    this.name = "PoolBusy";
  }
}

/** Why a worker was replaced, as counted in `/_metrics`. */
export type RestartCause = "crash" | "timeout" | "max_requests" | "max_rss" | "reload" | "cancel";

interface Waiter {
  resolve: (w: PythonWorker) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

const WORKER_SCRIPT = new URL("./worker.py", import.meta.url);
const PROTOCOL_MODULE = new URL("./protocol.py", import.meta.url);
const ASGI_WORKER_SCRIPT = new URL("./asgi_worker.py", import.meta.url);
const THREADS_MODULE = new URL("./wsgi_threads.py", import.meta.url);

/**
 * The pool. {@linkcode PythonPool.start} resolves when every worker has imported the app, or
 * throws {@linkcode WsgiImportError}.
 *
 * @example
 * ```ts ignore
 * const pool = new PythonPool(resolveWsgiOptions({ app: "app:app" }), log, stats);
 * await pool.start();
 * const worker = await pool.acquire();
 * pool.release(worker);
 * await pool.close();
 * ```
 */
export class PythonPool {
  /** The options in force. */
  readonly options: ResolvedWsgiOptions;
  /** What it counts: the server's totals and its app's entry (`python.apps`, `app="…"`). */
  readonly counters: PoolCounters;
  /** ferry's private directory (0700; see `private_dir.ts`): worker sockets and spilled request bodies. */
  dir = "";
  #log: Logger;
  #spec: PythonWorkerSpec | undefined;
  #private: PrivateDir | undefined;
  #all = new Set<PythonWorker>();
  #idle: PythonWorker[] = [];
  #queue: Waiter[] = [];
  #closing = false;
  #crashes = 0; // consecutive workers that died without serving
  #starting = 0;
  #reloading: Promise<void> | undefined;
  /** Request deadlines: one sweep every 100 ms instead of a timer per request. */
  #deadlines = new Deadlines();
  /** Requests one worker takes at once (see {@linkcode workerCapacity}). */
  readonly capacity: number;

  /**
   * A pool for `options`, counting into `stats`: its totals, and its app's entry under `name`
   * (the config's name for the app; the module, `options.app`, by default).
   */
  constructor(options: ResolvedWsgiOptions, log: Logger, stats: Stats, name: string = options.app) {
    this.options = options;
    this.capacity = workerCapacity(options);
    this.#log = log;
    this.counters = new PoolCounters(stats, name);
  }

  /**
   * Calls `expire` once `ms` have passed, unless the returned function is called first. The
   * deadlines are swept every 100 ms, so `expire` runs up to 100 ms late.
   */
  watch(ms: number, expire: () => void): () => void {
    return this.#deadlines.watch(ms, expire);
  }

  /** Creates the private directory and starts every worker. */
  async start(): Promise<void> {
    this.#private = await openPrivateDir((m, fields) => this.#log.warn(m, fields));
    this.dir = this.#private.path;
    const script = join(this.dir, "ferry_wsgi_worker.py");
    // The frame codec both workers import.
    await Deno.writeTextFile(join(this.dir, "ferry_protocol.py"), await Deno.readTextFile(PROTOCOL_MODULE), {
      mode: 0o600,
    });
    await Deno.writeTextFile(script, await Deno.readTextFile(WORKER_SCRIPT), { mode: 0o600 });
    // The threads of --wsgi-threads, which the WSGI worker imports when it runs them.
    await Deno.writeTextFile(
      join(this.dir, "ferry_wsgi_threads.py"),
      await Deno.readTextFile(THREADS_MODULE),
      {
        mode: 0o600,
      },
    );
    const o = this.options;
    let asgiScript = "";
    if (o.interface === "asgi") {
      // Beside the WSGI worker, whose loading of the app it imports.
      asgiScript = join(this.dir, "ferry_asgi_worker.py");
      await Deno.writeTextFile(asgiScript, await Deno.readTextFile(ASGI_WORKER_SCRIPT), { mode: 0o600 });
    }
    this.#spec = {
      python: o.python,
      app: o.app,
      chdir: o.chdir,
      pythonpath: o.pythonpath,
      dir: this.dir,
      script: asgiScript || script,
      startTimeoutMs: o.startTimeout * 1000,
      lifespanTimeoutMs: o.interface === "asgi" && o.lifespan !== "off" ? o.startupTimeout * 1000 : 0,
      log: this.#log,
      concurrent: this.capacity > 1,
      kind: o.interface === "asgi" ? "ASGI" : "WSGI",
      env: {
        FERRY_WSGI_THREADS: String(o.threads),
        FERRY_ASGI_LIFESPAN: o.lifespan,
        FERRY_ASGI_STARTUP_TIMEOUT: String(o.startupTimeout),
        // The worker reports its resident memory with each response's END (--wsgi-max-rss).
        ...(o.maxRss > 0 ? { FERRY_WSGI_REPORT_RSS: "1" } : {}),
        // A SIGTERM that reaches a worker directly (a service manager's stop) ends its request
        // within this.
        FERRY_WSGI_GRACEFUL_TIMEOUT: String(o.gracefulTimeout),
      },
    };
    try {
      const started = await Promise.allSettled(Array.from({ length: o.workers }, () => this.#spawn()));
      const failed = started.find((s) => s.status === "rejected");
      if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
      for (const s of started) this.#add((s as PromiseFulfilledResult<PythonWorker>).value);
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  /** A worker with room for a request now (it is the caller's until released), else undefined. */
  take(): PythonWorker | undefined {
    const w = this.capacity > 1 ? this.#roomy() : this.#takeIdle() ?? this.#pipelined();
    if (w !== undefined) {
      w.assigned++;
      this.#took(w);
    }
    return w;
  }

  /** A free worker, now or when one is released; rejects with {@linkcode PoolBusy}. */
  acquire(): Promise<PythonWorker> {
    const w = this.take();
    if (w !== undefined) return Promise.resolve(w);
    if (this.#closing) return Promise.reject(new PoolBusy("the Python workers are stopping"));
    if (this.#queue.length >= this.options.maxQueue) {
      return Promise.reject(
        new PoolBusy(`all ${this.options.workers} Python workers are busy and the queue is full`),
      );
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined };
      const t = this.options.queueTimeout;
      if (t > 0) {
        waiter.timer = setTimeout(() => {
          const i = this.#queue.indexOf(waiter);
          if (i >= 0) this.#queue.splice(i, 1);
          this.#gauges();
          reject(new PoolBusy(`no Python worker was free within ${t} s`));
        }, t * 1000);
      }
      this.#queue.push(waiter);
      this.#gauges();
    });
  }

  /** Moving average of how long a worker takes for one request, ms (it decides pipelining). */
  #serviceMs = 0;
  /** When each busy worker began its current request (as far as the pool can tell). */
  #busySince = new WeakMap<PythonWorker, number>();

  /** Notes that `w` took a request; it is busy from now if it was idle. */
  #took(w: PythonWorker): void {
    if (w.assigned === 1) this.#busySince.set(w, performance.now());
  }

  /** The least loaded worker with room for one more request (concurrent workers). */
  #roomy(): PythonWorker | undefined {
    let best: PythonWorker | undefined;
    for (const w of this.#all) {
      if (w.gone || w.retireReason !== undefined || w.assigned >= this.capacity) continue;
      if (w.maxRequests > 0 && w.served + w.assigned >= w.maxRequests) continue;
      if (best === undefined || w.assigned < best.assigned) best = w;
    }
    if (best !== undefined && best.assigned === 0) {
      const i = this.#idle.indexOf(best);
      if (i >= 0) {
        this.#idle.splice(i, 1);
        this.#gauges();
      }
    }
    return best;
  }

  /** {@linkcode PythonPool.release} for a worker that serves many requests at once. */
  #releaseConcurrent(w: PythonWorker): void {
    if (!this.#served(w)) return;
    if (w.retireReason !== undefined || this.#closing) {
      // Recycling drains the worker's open requests first.
      if (w.assigned === 0) this.#retire(w, (w.retireReason ?? "reload") as RestartCause);
      return;
    }
    this.#handOut(w);
  }

  /**
   * Counts a request `w` finished and marks it for recycling when it reached `--wsgi-max-requests`
   * or `--wsgi-max-rss`; false when the worker is gone (its exit handler replaces it).
   */
  #served(w: PythonWorker): boolean {
    w.assigned--;
    w.served++;
    this.#crashes = 0;
    if (w.gone) return false;
    if (w.maxRequests > 0 && w.served + w.assigned >= w.maxRequests) w.retireReason ??= "max_requests";
    if (this.options.maxRss > 0 && w.rss() > this.options.maxRss) w.retireReason ??= "max_rss";
    return true;
  }

  /** Gives a worker back after its request. */
  release(w: PythonWorker): void {
    if (this.capacity > 1) return this.#releaseConcurrent(w);
    const now = performance.now();
    const since = this.#busySince.get(w);
    if (since !== undefined) {
      // A worker runs its requests one after another: each took from the later of its handing
      // out and the previous one's end.
      this.#serviceMs = 0.8 * this.#serviceMs + 0.2 * (now - since);
      this.#busySince.set(w, now);
    }
    if (!this.#served(w)) return;
    if (w.assigned > 0) {
      // Still serving a pipelined request: it may take one more waiting request.
      if (w.retireReason === undefined && !this.#closing && this.#queue.length > 0) {
        w.assigned++;
        this.#took(w);
        this.#resolveNext(w);
      }
      return;
    }
    if (w.retireReason !== undefined || this.#closing) {
      this.#retire(w, (w.retireReason ?? "reload") as RestartCause);
      return;
    }
    this.#handOut(w);
  }

  /** Takes back a request from a worker that failed it (the worker is being replaced). */
  forget(w: PythonWorker): void {
    w.assigned--;
  }

  /** A busy worker that may take one more request behind its current one, fewest first. */
  #pipelined(): PythonWorker | undefined {
    if (this.options.pipeline <= 1 || this.#serviceMs >= PIPELINE_FAST_MS) return undefined;
    let best: PythonWorker | undefined;
    for (const w of this.#all) {
      if (w.gone || w.retireReason !== undefined || w.assigned === 0 || w.assigned >= this.options.pipeline) {
        continue;
      }
      if (w.maxRequests > 0 && w.served + w.assigned >= w.maxRequests) continue;
      if (best === undefined || w.assigned < best.assigned) best = w;
    }
    return best;
  }

  /**
   * Ends a worker whose request cannot finish normally (timed out, or its stream is in doubt):
   * its stacks go to the error log first when `dumpStacks`.
   */
  async discard(w: PythonWorker, cause: RestartCause, dumpStacks: boolean): Promise<void> {
    w.retireReason = cause;
    if (dumpStacks) {
      w.kill("SIGUSR1"); // faulthandler: every thread's stack to stderr, which ferry logs
      await Promise.race([w.exited, new Promise((r) => setTimeout(r, 500))]);
    }
    w.kill("SIGKILL");
  }

  /**
   * Restarts the workers one by one with fresh code: a new worker is up before an old one
   * retires. When the new code does not import, the old workers stay and the error is logged.
   */
  reload(): Promise<void> {
    return this.#reloading ??= this.#reload().finally(() => this.#reloading = undefined);
  }

  async #reload(): Promise<void> {
    const old = [...this.#all];
    this.#log.info("reloading the Python workers", { workers: old.length });
    for (const w of old) {
      if (this.#closing) return;
      let fresh: PythonWorker;
      try {
        fresh = await this.#spawn();
      } catch (e) {
        this.#log.error("reload failed: the new code does not load; the running workers stay", {
          error: e instanceof WsgiImportError ? e.traceback : String(e),
        });
        return;
      }
      this.#add(fresh);
      if (!this.#all.has(w)) continue; // it died meanwhile and was replaced
      const i = this.#idle.indexOf(w);
      if (i >= 0) {
        this.#idle.splice(i, 1);
        this.#retire(w, "reload", false);
      } else w.retireReason ??= "reload"; // retires when its request ends
    }
  }

  /** Stops every worker (SIGTERM, then SIGKILL after the graceful timeout) and removes the directory. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#deadlines.close();
    for (const q of this.#queue.splice(0)) {
      clearTimeout(q.timer);
      q.reject(new PoolBusy("the Python workers are stopping"));
    }
    await Promise.all([...this.#all].map((w) => w.stop(this.options.gracefulTimeout * 1000)));
    this.#all.clear();
    this.#idle = [];
    this.counters.close();
    await this.#private?.close();
    this.#private = undefined;
  }

  /** Workers alive now. */
  get size(): number {
    return this.#all.size;
  }

  /** Requests sent to the workers and not yet ended (what a test waits on, instead of a clock). */
  get inflight(): number {
    let n = 0;
    for (const w of this.#all) n += w.inflight;
    return n;
  }

  #takeIdle(): PythonWorker | undefined {
    const w = this.#idle.pop();
    if (w !== undefined) this.#gauges();
    return w;
  }

  #handOut(w: PythonWorker): void {
    if (this.capacity > 1) {
      while (this.#queue.length > 0 && w.assigned < this.capacity) {
        w.assigned++;
        this.#resolveNext(w);
      }
      if (w.assigned === 0 && !this.#idle.includes(w)) {
        this.#idle.push(w);
        this.#gauges();
      }
      return;
    }
    if (this.#queue.length > 0) {
      w.assigned++;
      this.#took(w);
      this.#resolveNext(w);
      return;
    }
    this.#idle.push(w);
    this.#gauges();
  }

  #resolveNext(w: PythonWorker): void {
    const next = this.#queue.shift()!;
    clearTimeout(next.timer);
    this.#gauges();
    next.resolve(w);
  }

  async #spawn(): Promise<PythonWorker> {
    this.#starting++;
    try {
      const w = await PythonWorker.start(this.#spec!);
      const jitter = this.options.maxRequestsJitter;
      if (this.options.maxRequests > 0) {
        w.maxRequests = this.options.maxRequests + Math.floor(Math.random() * (jitter + 1));
      }
      return w;
    } finally {
      this.#starting--;
    }
  }

  #add(w: PythonWorker): void {
    this.#all.add(w);
    w.exited.then((status) => this.#exited(w, status));
    this.#log.info("python worker ready", { pid: w.pid, app: this.options.app });
    this.#handOut(w);
  }

  #exited(w: PythonWorker, status: Deno.CommandStatus): void {
    if (!this.#all.delete(w)) return;
    const i = this.#idle.indexOf(w);
    if (i >= 0) this.#idle.splice(i, 1);
    this.#gauges();
    if (this.#closing) return;
    const cause = (w.retireReason ?? "crash") as RestartCause;
    if (cause === "crash") {
      this.#crashes++;
      this.#log.error("python worker died", { pid: w.pid, code: status.code, signal: status.signal ?? "-" });
    }
    this.counters.restarted(cause);
    this.#replace();
  }

  /** Starts a replacement, after a back-off that grows while workers keep dying unused. */
  #replace(): void {
    const delay = this.#crashes <= 1 ? 0 : Math.min(10_000, 100 * 2 ** (this.#crashes - 2));
    setTimeout(async () => {
      if (this.#closing || this.#all.size + this.#starting >= this.options.workers) return;
      try {
        const w = await this.#spawn();
        if (this.#closing) return void w.stop(0);
        this.#add(w);
      } catch (e) {
        this.#crashes++;
        this.#log.error("a replacement Python worker failed to start", {
          error: e instanceof WsgiImportError ? e.traceback : String(e),
        });
        this.#replace();
      }
    }, delay);
  }

  /** Stops a worker that is not serving; its exit handler starts the replacement. */
  #retire(w: PythonWorker, cause: RestartCause, replace = true): void {
    w.retireReason = cause;
    if (!replace) {
      // The replacement is already up (reload): account for it here and keep the count.
      this.#all.delete(w);
      this.counters.restarted(cause);
      this.#gauges();
    }
    w.stop(this.options.gracefulTimeout * 1000);
  }

  #gauges(): void {
    this.counters.gauges(this.#all.size, this.#idle.length, this.#queue.length);
  }
}
