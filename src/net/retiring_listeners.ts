/**
 * Listeners being replaced: each keeps accepting until its backlog has drained, then closes.
 *
 * @module
 */

/** A replaced listener closes after this long with nothing accepted (its backlog is then empty). */
const RETIRE_QUIET_MS = 25;
/** A replaced listener closes after this long at most, quiet or not. */
const RETIRE_MAX_MS = 2000;

/**
 * The listeners a reload replaced and that are still emptying their backlog. Closing a listener
 * resets the connections waiting in its backlog, and the kernel keeps handing it new ones
 * (SO_REUSEPORT spreads them over both) until it closes; so its accept loop goes on until a quiet
 * spell of {@linkcode RETIRE_QUIET_MS} with nothing accepted, within {@linkcode RETIRE_MAX_MS}.
 * (`sysctl net.ipv4.tcp_migrate_req=1` has the kernel move the backlog to the new listener.)
 *
 * @example
 * ```ts ignore
 * const retiring = new RetiringListeners();
 * // in the accept loop, after each accept:
 * retiring.accepted(listener);
 * // on reload, once the new listener accepts:
 * await retiring.retire(old, oldLoop);
 * ```
 */
export class RetiringListeners {
  #accepts = new Map<Deno.Listener, number>();

  /** Notes a connection accepted on `listener` (cheap when nothing is retiring). */
  accepted(listener: Deno.Listener): void {
    if (this.#accepts.size > 0) this.#accepts.set(listener, (this.#accepts.get(listener) ?? 0) + 1);
  }

  /** The listeners still retiring (a drain closes them at once). */
  listeners(): Deno.Listener[] {
    return [...this.#accepts.keys()];
  }

  /** Closes `listener` once its backlog is empty, then waits for its accept loop to end. */
  async retire(listener: Deno.Listener, loop: Promise<void> | undefined): Promise<void> {
    this.#accepts.set(listener, 0);
    const give = performance.now() + RETIRE_MAX_MS;
    for (;;) {
      const seen = this.#accepts.get(listener);
      await new Promise((r) => setTimeout(r, RETIRE_QUIET_MS));
      if (this.#accepts.get(listener) === seen || performance.now() > give) break;
    }
    this.#accepts.delete(listener);
    try {
      listener.close();
    } catch {
      // closed already (a drain)
    }
    // The socket is released once the pending accept has been torn down.
    await loop;
  }
}
