/**
 * The bytes of one incoming WebSocket message while its frames arrive, held so that the message
 * never costs much more than its payload, however it is framed: one buffer per socket that grows
 * by doubling as payload arrives (never ahead of the bytes a peer actually sent, so a header that
 * declares a large frame reserves nothing), a bound on the number of fragments (a message of more
 * than {@linkcode MAX_SMALL_FRAGMENTS} fragments must average at least
 * {@linkcode MIN_FRAGMENT_AVERAGE} bytes each, or the connection closes with 1008), and a budget
 * shared by every socket of the process: a message that would take the total past it closes its
 * connection with 1013 (try again later) instead of growing the heap.
 *
 * @module
 */

import { CLOSE, WsProtocolError } from "./protocol.ts";

/** Fragments a message may have whatever their size. */
export const MAX_SMALL_FRAGMENTS = 4096;
/** Past {@linkcode MAX_SMALL_FRAGMENTS}, the smallest average payload per fragment, bytes. */
export const MIN_FRAGMENT_AVERAGE = 1024;
/** The first buffer of a message whose size is not known yet. */
const FIRST_BYTES = 4 * 1024;
/** Bytes of buffers that no message may take the total past (all sockets of this isolate). */
let budget = 256 * 1024 * 1024;
let total = 0;

/**
 * Sets the shared budget: at least 256 MiB, and room for 64 messages of the largest size.
 *
 * @example
 * ```ts
 * import { setAssemblyBudget } from "./assembly.ts";
 * setAssemblyBudget(1 << 20);
 * ```
 */
export function setAssemblyBudget(maxMessageBytes: number): void {
  budget = Math.max(256 * 1024 * 1024, 64 * maxMessageBytes);
}

/** Bytes held by assembly buffers of every socket now. */
export function assemblyBytes(): number {
  return total;
}

/**
 * One socket's message buffer.
 *
 * @example
 * ```ts
 * import { Assembly } from "./assembly.ts";
 * const a = new Assembly(1 << 20);
 * a.frame(3);
 * a.add(new Uint8Array([1, 2, 3]));
 * a.take().length; // 3
 * ```
 */
export class Assembly {
  #max: number;
  #buf: Uint8Array | null = null;
  #len = 0;
  #fragments = 0;
  /** The size the message will have when it is known (one frame), else -1. */
  #expect = -1;

  /** A buffer for messages of at most `maxMessageBytes`. */
  constructor(maxMessageBytes: number) {
    this.#max = maxMessageBytes;
  }

  /** Payload bytes of the message so far. */
  get length(): number {
    return this.#len;
  }

  /**
   * A new message starts; `whole` is its size when it is one frame (-1 when fragmented), so that
   * its buffer ends exactly that large.
   */
  begin(whole: number): void {
    this.#len = 0;
    this.#fragments = 0;
    this.#expect = whole;
  }

  /** A frame of `length` payload bytes starts: checks the message's size and fragment count. */
  frame(length: number): void {
    const n = ++this.#fragments;
    if (this.#len + length > this.#max) {
      throw new WsProtocolError(CLOSE.tooBig, `message over the limit of ${this.#max} bytes`);
    }
    if (n > MAX_SMALL_FRAGMENTS && this.#len + length < n * MIN_FRAGMENT_AVERAGE) {
      throw new WsProtocolError(
        CLOSE.policy,
        `message of more than ${MAX_SMALL_FRAGMENTS} fragments averaging under ${MIN_FRAGMENT_AVERAGE} bytes`,
      );
    }
  }

  /** Appends payload bytes (a copy). */
  add(bytes: Uint8Array): void {
    const need = this.#len + bytes.length;
    let buf = this.#buf;
    if (buf === null || need > buf.length) buf = this.#grow(need);
    buf.set(bytes, this.#len);
    this.#len = need;
  }

  /** The message's bytes; the buffer is handed over (the next message starts a new one). */
  take(): Uint8Array {
    const buf = this.#buf;
    const n = this.#len;
    this.release();
    if (buf === null) return new Uint8Array(0);
    return n === buf.length ? buf : buf.slice(0, n);
  }

  /** Drops the buffer (the message was delivered, or the socket ended). */
  release(): void {
    if (this.#buf !== null) total -= this.#buf.length;
    this.#buf = null;
    this.#len = 0;
  }

  #grow(need: number): Uint8Array {
    const old = this.#buf;
    const have = old === null ? 0 : old.length;
    const cap = this.#expect >= 0 ? this.#expect : this.#max;
    let size = Math.min(cap, Math.max(need, have * 2, FIRST_BYTES));
    if (size < need) size = need;
    if (total - have + size > budget) {
      throw new WsProtocolError(
        CLOSE.tryAgainLater,
        "the server's memory for incoming WebSocket messages is used up; try again later",
      );
    }
    const buf = new Uint8Array(size);
    if (old !== null) buf.set(old.subarray(0, this.#len));
    total += size - have;
    this.#buf = buf;
    return buf;
  }
}
