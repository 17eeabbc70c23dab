/**
 * SIGINT and SIGTERM: the first drains, a later one stops at once. Under `deno task start` a
 * terminal's Ctrl+C reaches ferry twice, once from the terminal (the whole process group gets
 * it) and once forwarded by `deno task`, a few milliseconds apart. A signal within
 * {@linkcode SAME_SIGNAL_MS} of the first is taken as that same request to drain, so one Ctrl+C
 * never drops in-flight requests.
 *
 * @module
 */

/** Signals this close after the first are its echo, not a second request. */
export const SAME_SIGNAL_MS = 1000;

/** What the stop signals do. */
export interface StopSignalsOptions {
  /** The first signal: begin a graceful drain. */
  drain(): void;
  /** A later signal: stop at once. */
  now(): void;
}

/**
 * Listens for SIGINT and SIGTERM until the returned function is called.
 *
 * @example
 * ```ts ignore
 * const off = onStopSignals({ drain: () => server.shutdown(), now: () => Deno.exit(1) });
 * await server.finished;
 * off();
 * ```
 */
export function onStopSignals(options: StopSignalsOptions): () => void {
  let first = 0;
  const stop = () => {
    const t = performance.now();
    if (first === 0) {
      first = t;
      options.drain();
    } else if (t - first > SAME_SIGNAL_MS) {
      options.now();
    }
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  return () => {
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
  };
}
