/**
 * Log output under `--workers N`: one thread writes every log file. Each isolate's logger hands
 * its batches to a {@linkcode RelaySink}, which posts them to the main thread; there a
 * {@linkcode LogOwner} writes them, one batch at a time per stream, to the one rotating file (or
 * to stdout and stderr), and acknowledges each.
 *
 * Isolates that each opened and rotated the same file lost lines: one isolate renamed the file,
 * gzipped it and removed it while the other still appended to it through its open descriptor.
 * With one owner there is one size count, one rotation and one gzip; batches stay whole lines,
 * and each isolate's batches keep their order.
 *
 * @module
 */

import { closeSinks, type LogSink } from "./logger.ts";

/** Which log a batch belongs to. */
export type LogStream = "access" | "errors";

/** An isolate's batch of whole log lines, posted to the owner (the bytes are transferred). */
export interface LogBatch {
  /** Message tag. */
  type: "log";
  /** The log it goes to. */
  stream: LogStream;
  /** Numbers the batch within its stream, for the acknowledgement. */
  id: number;
  /** Whole lines, each ending in a newline. */
  bytes: Uint8Array;
}

/** The owner's acknowledgement of a {@linkcode LogBatch}: written, or failed with `error`. */
export interface LogWritten {
  /** Message tag. */
  type: "logged";
  /** The batch's stream. */
  stream: LogStream;
  /** The batch's id. */
  id: number;
  /** Why the batch was not written, if it was not. */
  error?: string;
}

/**
 * An isolate's sink for one log stream: each write posts a copy of the batch to the owner and
 * resolves once the owner has written it, so the isolate's `LineWriter` keeps its one
 * write in flight and its bound on queued lines.
 *
 * @example
 * ```ts ignore
 * const access = new RelaySink("access", (batch, transfer) => self.postMessage(batch, transfer));
 * // on a "logged" message: access.settle(msg)
 * ```
 */
export class RelaySink implements LogSink {
  #stream: LogStream;
  #post: (batch: LogBatch, transfer: ArrayBuffer[]) => void;
  #next = 0;
  #waiting = new Map<number, { resolve: (n: number) => void; reject: (e: Error) => void; n: number }>();

  /** A sink for `stream` that sends its batches with `post`. */
  constructor(stream: LogStream, post: (batch: LogBatch, transfer: ArrayBuffer[]) => void) {
    this.#stream = stream;
    this.#post = post;
  }

  /** Sends `p` to the owner; resolves with its length once it is written. */
  write(p: Uint8Array): Promise<number> {
    // `p` is a view of the logger's batch buffer, which is reused once this write resolves.
    const bytes = p.slice();
    const id = this.#next++;
    return new Promise<number>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject, n: p.length });
      this.#post({ type: "log", stream: this.#stream, id, bytes }, [bytes.buffer]);
    });
  }

  /** Settles the write that `msg` acknowledges. */
  settle(msg: LogWritten): void {
    const w = this.#waiting.get(msg.id);
    if (w === undefined) return;
    this.#waiting.delete(msg.id);
    if (msg.error === undefined) w.resolve(w.n);
    else w.reject(new Error(msg.error));
  }
}

/**
 * The thread that owns the log sinks: writes the batches of every isolate, in the order they
 * arrive and one at a time per stream, and acknowledges each.
 *
 * @example
 * ```ts ignore
 * const owner = new LogOwner(fileSink("logs/access.log"), Deno.stderr);
 * isolate.onmessage = (e) => {
 *   if (e.data.type === "log") owner.receive(e.data, (ack) => isolate.postMessage(ack));
 * };
 * await owner.close(); // when every isolate has stopped
 * ```
 */
export class LogOwner {
  #sinks: Record<LogStream, LogSink>;
  #tails: Record<LogStream, Promise<void>> = { access: Promise.resolve(), errors: Promise.resolve() };

  /** An owner writing access lines to `access` and error lines to `errors`. */
  constructor(access: LogSink, errors: LogSink) {
    this.#sinks = { access, errors };
  }

  /** Writes `batch` after every batch received before it, then calls `reply`. */
  receive(batch: LogBatch, reply: (ack: LogWritten) => void): void {
    const { stream, id, bytes } = batch;
    const sink = this.#sinks[stream];
    this.#tails[stream] = this.#tails[stream].then(async () => {
      try {
        let off = 0;
        while (off < bytes.length) off += await sink.write(bytes.subarray(off));
        reply({ type: "logged", stream, id });
      } catch (e) {
        reply({ type: "logged", stream, id, error: e instanceof Error ? e.message : String(e) });
      }
    });
  }

  /** Waits for the batches received so far, then closes the sinks that close (files finish their gzip). */
  async close(): Promise<void> {
    await Promise.all([this.#tails.access, this.#tails.errors]);
    await closeSinks([this.#sinks.access, this.#sinks.errors]);
  }
}
