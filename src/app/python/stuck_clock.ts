/**
 * `--wsgi-timeout` as "stuck", not "long": the clock of one Python request runs while ferry waits
 * for the app (for its response head, then between two body pieces) and starts over at each sign
 * of progress, so a stream that keeps sending (server-sent events, a long download) is never cut,
 * while an app that goes silent for the whole timeout is. It stands still while ferry waits on the
 * client (a slow reader is the connection's write timeout's business, not the app's).
 *
 * @module
 */

/** What the clock needs of the pool: one deadline, cancelled by the function it returns. */
export interface DeadlineWatcher {
  /** Calls `expire` once `ms` have passed, unless the returned function is called first. */
  watch(ms: number, expire: () => void): () => void;
}

/**
 * One request's clock: {@linkcode StuckClock.progress} (re)starts it, {@linkcode StuckClock.pause}
 * stops it until the next progress, {@linkcode StuckClock.stop} for good. With `ms` 0 it never runs.
 *
 * @example
 * ```ts ignore
 * const clock = new StuckClock(pool, 30_000, () => worker.interrupt(sid, FRAME.LocalTimeout));
 * clock.progress(); // the request is sent: waiting for its head
 * // ... on each HEAD and DATA frame: clock.progress(); at the end: clock.stop()
 * ```
 */
export class StuckClock {
  #watcher: DeadlineWatcher;
  #ms: number;
  #expire: () => void;
  #cancel: (() => void) | undefined;
  #stopped = false;

  /** A clock of `ms` milliseconds of silence that calls `expire` when they pass. */
  constructor(watcher: DeadlineWatcher, ms: number, expire: () => void) {
    this.#watcher = watcher;
    this.#ms = ms;
    this.#expire = expire;
  }

  /** The app showed progress (or the wait for it begins): a full timeout from now. */
  progress(): void {
    if (this.#stopped || this.#ms <= 0) return;
    this.#cancel?.();
    this.#cancel = this.#watcher.watch(this.#ms, () => {
      this.#cancel = undefined;
      this.#expire();
    });
  }

  /** ferry is not waiting for the app now (it waits on the client): no clock until the next progress. */
  pause(): void {
    this.#cancel?.();
    this.#cancel = undefined;
  }

  /** The request is over: the clock never runs again. */
  stop(): void {
    this.#stopped = true;
    this.pause();
  }
}
