/**
 * The Python gateways' deadlines (`--wsgi-timeout`'s clock, the watch for a client that leaves, a
 * cancelled task's grace): one sweep every 100 ms instead of a timer per request, over a doubly
 * linked list whose links are cleared when a deadline is cancelled or fires.
 *
 * Why a list and not a `Set`: a `Set` that sees an add and a delete per request rehashes its table
 * every few hundred requests, and V8 keeps a replaced table's entries. A table that lived long
 * enough to reach the old generation then holds hundreds of finished requests (each deadline's
 * callback reaches its exchange, its request, its writer) until the next full collection: every
 * young collection copied and promoted them (about 13% of the young generation survived, and a
 * collection took 10-15 ms instead of 2). An unlinked node points at nothing.
 *
 * @module
 */

/** One armed deadline (a node of the list). */
class Deadline {
  prev: Deadline | undefined = undefined;
  next: Deadline | undefined = undefined;
  linked = false;
  constructor(public at: number, public expire: (() => void) | undefined) {}
}

/**
 * Deadlines swept every 100 ms: `expire` runs up to 100 ms late.
 *
 * @example
 * ```ts
 * import { Deadlines } from "./deadlines.ts";
 * const d = new Deadlines();
 * const cancel = d.watch(1000, () => console.log("late"));
 * cancel();
 * d.close();
 * ```
 */
export class Deadlines {
  #head: Deadline | undefined;
  #size = 0;
  #sweeper: ReturnType<typeof setInterval> | undefined;

  /** Deadlines armed now. */
  get size(): number {
    return this.#size;
  }

  /** Calls `expire` once `ms` have passed, unless the returned function is called first. */
  watch(ms: number, expire: () => void): () => void {
    const d = new Deadline(performance.now() + ms, expire);
    this.#link(d);
    this.#sweeper ??= setInterval(() => this.#sweep(), 100);
    return () => this.#unlink(d);
  }

  /** Forgets every deadline and stops sweeping. */
  close(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    while (this.#head !== undefined) this.#unlink(this.#head);
  }

  #link(d: Deadline): void {
    d.linked = true;
    d.next = this.#head;
    if (this.#head !== undefined) this.#head.prev = d;
    this.#head = d;
    this.#size++;
  }

  #unlink(d: Deadline): void {
    if (!d.linked) return;
    d.linked = false;
    if (d.prev !== undefined) d.prev.next = d.next;
    else this.#head = d.next;
    if (d.next !== undefined) d.next.prev = d.prev;
    d.prev = d.next = undefined;
    d.expire = undefined;
    this.#size--;
  }

  #sweep(): void {
    const now = performance.now();
    const due: Array<() => void> = [];
    for (let d = this.#head; d !== undefined;) {
      const next = d.next;
      if (d.at <= now) {
        due.push(d.expire!);
        this.#unlink(d);
      }
      d = next;
    }
    // Called once the list is settled: an expiry may arm or cancel others.
    for (const expire of due) expire();
  }
}
