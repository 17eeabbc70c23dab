/**
 * One worker of `--workers N`: a full ferry server in its own isolate, sharing the listening
 * ports with the others through SO_REUSEPORT. The main thread starts it, relays signals and
 * certificate reloads, and answers its requests for the other workers' counters (so that
 * `/_metrics` sums all of them).
 *
 * Its log lines go to the main thread, which owns the log files (see `log/relay.ts`).
 *
 * Messages in: `start`, `shutdown`, `tls`, `snapshot`, `collected`, `logged`. Messages out:
 * `listening`, `stopped`, `failed`, `collect`, `snapshot-reply`, `reloaded`, `log`.
 *
 * @module
 */

import { createLogger, serve } from "./mod.ts";
import { type LogBatch, type LogWritten, RelaySink } from "./log/relay.ts";
import { Stats, type StatsSnapshot } from "./stats.ts";
import type { Server, TlsMaterial } from "./server.ts";
import type { ServerOptions } from "./options.ts";
import type { AcmeNameStatus } from "./acme/metrics.ts";
import { acmeChallengeHandler } from "./acme/challenge.ts";
import { AcmeStorage } from "./acme/storage.ts";

export type { AcmeNameStatus, LogBatch, LogWritten, ServerOptions, StatsSnapshot, TlsMaterial };

/** What the main thread sends. */
export type ToWorker =
  | { type: "start"; id: number; options: ServerOptions; tls?: TlsMaterial; acme?: WorkerAcme }
  | { type: "certificate"; name: string; tls: TlsMaterial }
  | { type: "acme-status"; status: AcmeNameStatus[] }
  | { type: "shutdown" }
  | { type: "tls"; tls: TlsMaterial }
  | { type: "snapshot"; id: number }
  | { type: "collected"; id: number; snapshots: StatsSnapshot[] }
  | LogWritten;

/** What a worker sends back. */
export type FromWorker =
  | { type: "listening"; urls: string[]; http?: number; https?: number }
  | { type: "stopped" }
  | { type: "failed"; error: string }
  | { type: "collect"; id: number }
  | { type: "snapshot-reply"; id: number; snapshot: StatsSnapshot }
  | { type: "reloaded"; error?: string }
  | LogBatch;

/** Automatic HTTPS as a worker sees it: the issuer runs on the main thread. */
export interface WorkerAcme {
  /** `--acme-dir`, where the http-01 answers are. */
  dir: string;
  /** Certificates issued so far, per name. */
  certificates: Array<[string, TlsMaterial]>;
  /** Per-name status for `/_metrics`. */
  status: AcmeNameStatus[];
}

interface WorkerScope {
  postMessage(msg: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
}

const scope = globalThis as unknown as WorkerScope;
let server: Server | undefined;
let nextCollect = 0;
const waiting = new Map<number, (s: Stats[]) => void>();
// Log batches go to the main thread, the one writer of the log files and of stdout/stderr.
const post = (batch: LogBatch, transfer: ArrayBuffer[]) => scope.postMessage(batch, transfer);
const relay = { access: new RelaySink("access", post), errors: new RelaySink("errors", post) };

/** Asks the main thread for every worker's counters. */
function collect(): Promise<Stats[]> {
  const id = nextCollect++;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    scope.postMessage({ type: "collect", id });
  });
}

scope.onmessage = async (e: MessageEvent<ToWorker>) => {
  const msg = e.data;
  switch (msg.type) {
    case "start": {
      try {
        const stats = new Stats();
        stats.worker = msg.id;
        const options = { ...msg.options, reusePort: true };
        if (msg.acme !== undefined) stats.acme = msg.acme.status;
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
        scope.postMessage({ type: "failed", error: err instanceof Error ? err.message : String(err) });
      }
      break;
    }
    case "shutdown":
      server?.shutdown();
      break;
    case "tls":
      try {
        await server?.reloadTls(msg.tls);
        scope.postMessage({ type: "reloaded" });
      } catch (err) {
        scope.postMessage({ type: "reloaded", error: err instanceof Error ? err.message : String(err) });
      }
      break;
    case "certificate":
      try {
        await server?.setCertificate(msg.name, msg.tls);
      } catch (err) {
        server?.log.error("certificate swap failed", { name: msg.name, error: String(err) });
      }
      break;
    case "acme-status":
      if (server !== undefined) server.stats.acme = msg.status;
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
