/**
 * `--workers N`: N isolates, each a full ferry server, sharing the listening ports through
 * SO_REUSEPORT. This file holds both ends of their message protocol: the supervisor on the main
 * thread ({@linkcode Isolates}) and what runs inside each isolate ({@linkcode serveIsolate},
 * started by `isolate.ts`, the module each isolate loads).
 *
 * The supervisor starts the isolates (isolate 0 first, so that port 0 becomes one real port for
 * all), relays drains, certificate reloads and automatic-HTTPS certificates, answers an isolate's
 * request for every isolate's counters (so that `/_metrics` sums all of them), and owns the log
 * files: each isolate's log lines come to it (see `log/relay.ts`).
 *
 * To an isolate: `start`, `shutdown`, `tls`, `certificate`, `acme-status`, `snapshot`,
 * `collected`, `logged`. From an isolate: `listening`, `failed`, `stopped`, `reloaded`,
 * `collect`, `snapshot-reply`, `log`.
 *
 * @module
 */

import { createLogger, createLogSinks, serve } from "./mod.ts";
import { type LogBatch, LogOwner, type LogWritten, RelaySink } from "./log/relay.ts";
import { Stats, type StatsSnapshot } from "./stats.ts";
import type { Server, TlsMaterial } from "./server.ts";
import { resolveOptions, type ServerOptions } from "./options.ts";
import { type AcmeNameStatus, setAcmeStatus } from "./acme/metrics.ts";
import { acmeChallengeHandler } from "./acme/challenge.ts";
import { AcmeStorage } from "./acme/storage.ts";

/** What the supervisor sends to an isolate. */
export type ToIsolate =
  | { type: "start"; id: number; options: ServerOptions; tls?: TlsMaterial; acme?: IsolateAcme }
  | { type: "certificate"; name: string; tls: TlsMaterial }
  | { type: "acme-status"; status: AcmeNameStatus[] }
  | { type: "shutdown" }
  | { type: "tls"; tls: TlsMaterial }
  | { type: "snapshot"; id: number }
  | { type: "collected"; id: number; snapshots: StatsSnapshot[] }
  | LogWritten;

/** What an isolate sends back. */
export type FromIsolate =
  | { type: "listening"; urls: string[]; http?: number; https?: number }
  | { type: "stopped" }
  | { type: "failed"; error: string }
  | { type: "collect"; id: number }
  | { type: "snapshot-reply"; id: number; snapshot: StatsSnapshot }
  | { type: "reloaded"; error?: string }
  | LogBatch;

/** Automatic HTTPS as an isolate sees it: the issuer runs on the main thread. */
export interface IsolateAcme {
  /** `--acme-dir`, where the http-01 answers are. */
  dir: string;
  /** Certificates issued so far, per name. */
  certificates: Array<[string, TlsMaterial]>;
  /** Per-name status for `/_metrics`. */
  status: AcmeNameStatus[];
}

/** Where the first isolate listens: its URLs and its real ports. */
export type Listening = FromIsolate & { type: "listening" };

const errorText = (err: unknown) => err instanceof Error ? err.message : String(err);

// --- The supervisor (main thread) ------------------------------------------------------------

/**
 * The supervisor of `--workers N` isolates.
 *
 * @example
 * ```ts ignore
 * const isolates = new Isolates(2, options, material);
 * const where = await isolates.start();
 * console.log(where.urls);
 * isolates.shutdown();
 * await isolates.finished;
 * await isolates.close();
 * ```
 */
export class Isolates {
  /** Resolves once every isolate has stopped (each has flushed its log). */
  readonly finished: Promise<void>;
  #n: number;
  #options: ServerOptions;
  #material: TlsMaterial | undefined;
  #acme: (() => IsolateAcme) | undefined;
  #isolates: Worker[] = [];
  #stopped = 0;
  #allStopped!: () => void;
  /** Counter collections in progress: which isolate asked, its request id, the replies so far. */
  #collecting = new Map<number, { from: number; requestId: number; snapshots: StatsSnapshot[] }>();
  #round = 0;
  /** Reloads in progress: the replies still awaited and the errors so far. */
  #reloads: Array<{ left: number; errors: string[]; done: (errors: string[]) => void }> = [];
  /** The one writer of the log files (and of stdout/stderr). */
  #logs: LogOwner;

  /**
   * `n` isolates serving `options` with `material` for HTTPS; `acme` gives automatic HTTPS's
   * state as it is when an isolate starts.
   */
  constructor(n: number, options: ServerOptions, material?: TlsMaterial, acme?: () => IsolateAcme) {
    this.#n = n;
    this.#options = options;
    this.#material = material;
    this.#acme = acme;
    this.finished = new Promise<void>((r) => this.#allStopped = r);
    // Isolates that rotated one file each on their own lost lines: the main thread writes them.
    const sinks = createLogSinks(resolveOptions(options));
    this.#logs = new LogOwner(sinks.access, sinks.errors);
  }

  /** Starts isolate 0, then the others on its ports; resolves with where isolate 0 listens. */
  async start(): Promise<Listening> {
    const first = await this.#start(0, this.#options);
    const fixed: ServerOptions = {
      ...this.#options,
      port: first.http ?? this.#options.port,
      httpsPort: first.https ?? this.#options.httpsPort,
    };
    await Promise.all(Array.from({ length: this.#n - 1 }, (_, k) => this.#start(k + 1, fixed)));
    return first;
  }

  /** Drains every isolate ({@linkcode finished} resolves when all have stopped). */
  shutdown(): void {
    this.#broadcast({ type: "shutdown" });
  }

  /**
   * Hands a new default certificate to every isolate; resolves once each has swapped it in, and
   * rejects naming the isolates that could not (they keep the old one).
   */
  reloadTls(tls: TlsMaterial): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#reloads.push({
        left: this.#isolates.length,
        errors: [],
        done: (errors) => errors.length === 0 ? resolve() : reject(new Error(errors.join("; "))),
      });
      this.#broadcast({ type: "tls", tls });
    });
  }

  /** Serves `tls` for `name` (SNI) in every isolate (automatic HTTPS). */
  setCertificate(name: string, tls: TlsMaterial): void {
    this.#broadcast({ type: "certificate", name, tls });
  }

  /** Tells every isolate the per-name automatic-HTTPS status, for `/_metrics`. */
  acmeStatus(status: AcmeNameStatus[]): void {
    this.#broadcast({ type: "acme-status", status });
  }

  /** After {@linkcode finished}: closes the log files and ends the isolates. */
  async close(): Promise<void> {
    // Every isolate has flushed its log (each batch was acknowledged): finish the files.
    await this.#logs.close();
    for (const w of this.#isolates) w.terminate();
  }

  #broadcast(msg: ToIsolate): void {
    for (const w of this.#isolates) w.postMessage(msg);
  }

  #start(i: number, options: ServerOptions): Promise<Listening> {
    return new Promise((resolve, reject) => {
      const w = new Worker(new URL("./isolate.ts", import.meta.url).href, { type: "module" });
      this.#isolates[i] = w;
      w.onerror = (e) => {
        e.preventDefault();
        console.error(`ferry: isolate ${i} failed: ${e.message}`);
        reject(new Error(e.message));
      };
      w.onmessage = (e: MessageEvent<FromIsolate>) => {
        const msg = e.data;
        switch (msg.type) {
          case "listening":
            resolve(msg);
            break;
          case "failed":
            reject(new Error(msg.error));
            break;
          case "stopped":
            if (++this.#stopped === this.#n) this.#allStopped();
            break;
          case "collect":
            this.#collect(i, msg.id);
            break;
          case "snapshot-reply":
            this.#snapshotReply(msg.id, msg.snapshot);
            break;
          case "reloaded": {
            // Isolates answer reloads in the order they were sent.
            const reload = this.#reloads[0];
            if (reload === undefined) break;
            if (msg.error) reload.errors.push(`isolate ${i}: ${msg.error}`);
            if (--reload.left === 0) {
              this.#reloads.shift();
              reload.done(reload.errors);
            }
            break;
          }
          case "log":
            this.#logs.receive(msg, (ack) => w.postMessage(ack satisfies ToIsolate));
            break;
        }
      };
      const start: ToIsolate = { type: "start", id: i, options, tls: this.#material, acme: this.#acme?.() };
      w.postMessage(start);
    });
  }

  /** Isolate `from` wants every isolate's counters: ask each for a snapshot. */
  #collect(from: number, requestId: number): void {
    const id = this.#round++;
    this.#collecting.set(id, { from, requestId, snapshots: [] });
    this.#broadcast({ type: "snapshot", id });
  }

  /** One snapshot in; the asker gets them all once every isolate has replied. */
  #snapshotReply(id: number, snapshot: StatsSnapshot): void {
    const c = this.#collecting.get(id);
    if (c === undefined) return;
    c.snapshots.push(snapshot);
    if (c.snapshots.length < this.#n) return;
    this.#collecting.delete(id);
    const reply: ToIsolate = { type: "collected", id: c.requestId, snapshots: c.snapshots };
    this.#isolates[c.from].postMessage(reply);
  }
}

// --- One isolate -----------------------------------------------------------------------------

/** The global scope of an isolate, as {@linkcode serveIsolate} uses it. */
export interface IsolateScope {
  /** Sends a message to the supervisor. */
  postMessage(msg: FromIsolate, transfer?: Transferable[]): void;
  /** Receives the supervisor's messages. */
  onmessage: ((e: MessageEvent<ToIsolate>) => void) | null;
}

/**
 * Runs one isolate's side of the protocol on `scope`: a full server once `start` comes, its log
 * lines relayed to the supervisor, its counters offered to the others.
 *
 * @example
 * ```ts ignore
 * serveIsolate(globalThis as unknown as IsolateScope);
 * ```
 */
export function serveIsolate(scope: IsolateScope): void {
  let server: Server | undefined;
  let nextCollect = 0;
  const waiting = new Map<number, (s: Stats[]) => void>();
  // Log batches go to the supervisor, the one writer of the log files and of stdout/stderr.
  const post = (batch: LogBatch, transfer: ArrayBuffer[]) => scope.postMessage(batch, transfer);
  const relay = { access: new RelaySink("access", post), errors: new RelaySink("errors", post) };

  /** Asks the supervisor for every isolate's counters. */
  const collect = (): Promise<Stats[]> => {
    const id = nextCollect++;
    return new Promise((resolve) => {
      waiting.set(id, resolve);
      scope.postMessage({ type: "collect", id });
    });
  };

  const start = async (msg: ToIsolate & { type: "start" }) => {
    try {
      const stats = new Stats();
      stats.worker = msg.id;
      // Options cross to an isolate as plain data: resolved once here, for everything in it.
      const options = resolveOptions({ ...msg.options, reusePort: true });
      if (msg.acme !== undefined) setAcmeStatus(stats, msg.acme.status);
      server = await serve(options, {
        tls: msg.tls,
        ...(msg.acme === undefined ? {} : {
          acmeChallenge: acmeChallengeHandler(new AcmeStorage(msg.acme.dir)),
          certificates: new Map(msg.acme.certificates),
        }),
        stats,
        log: createLogger(options, stats, relay),
        metricsSource: collect,
      });
      server.finished.then(() => scope.postMessage({ type: "stopped" }));
      scope.postMessage({
        type: "listening",
        urls: server.urls,
        http: server.httpAddr?.port,
        https: server.httpsAddr?.port,
      });
    } catch (err) {
      scope.postMessage({ type: "failed", error: errorText(err) });
    }
  };

  // Reloads are answered in the order they came (the supervisor counts on it).
  let reloading = Promise.resolve();

  scope.onmessage = (e: MessageEvent<ToIsolate>) => {
    const msg = e.data;
    switch (msg.type) {
      case "start":
        start(msg);
        break;
      case "shutdown":
        server?.shutdown();
        break;
      case "tls":
        reloading = reloading.then(async () => {
          try {
            await server?.reloadTls(msg.tls);
            scope.postMessage({ type: "reloaded" });
          } catch (err) {
            scope.postMessage({ type: "reloaded", error: errorText(err) });
          }
        });
        break;
      case "certificate":
        server?.setCertificate(msg.name, msg.tls).catch((err) =>
          server?.log.error("certificate swap failed", { name: msg.name, error: String(err) })
        );
        break;
      case "acme-status":
        if (server !== undefined) setAcmeStatus(server.stats, msg.status);
        break;
      case "snapshot":
        scope.postMessage({
          type: "snapshot-reply",
          id: msg.id,
          snapshot: (server?.stats ?? new Stats()).snapshot(),
        });
        break;
      case "collected":
        waiting.get(msg.id)?.(msg.snapshots.map((s) => Stats.fromSnapshot(s)));
        waiting.delete(msg.id);
        break;
      case "logged":
        relay[msg.stream].settle(msg);
        break;
    }
  };
}
