/**
 * One request stream's state on a QUIC connection: the request as it arrived, its body (the
 * exchange contract's `Body` over DATA frames, bounded: the stream is not read on while a
 * handler leaves too much unread, so QUIC's flow control holds the client back), its trailers,
 * and whether the client went away.
 *
 * @module
 */

import { Body } from "../http/body.ts";
import { Refusal } from "../http/refusal.ts";
import { STATUS } from "../http/status.ts";
import type { HeaderList } from "../http/headers.ts";
import type { ClientPresence, RequestFields } from "../http/request.ts";

/** Why a body read failed: the client reset the stream, or the connection closed. */
export class StreamGone extends Error {}

/** Unread body bytes past which the stream is not read on (QUIC flow control does the rest). */
export const BODY_QUEUE_LIMIT = 1 << 20;

/**
 * A client's request stream.
 *
 * @example
 * ```ts ignore
 * const stream = new H3Stream(0);
 * stream.head = fields;
 * for await (const chunk of stream.body) console.log(chunk.length);
 * ```
 */
export class H3Stream implements ClientPresence {
  /** The QUIC stream id. */
  readonly id: number;
  /** The request's fields (set when HEADERS arrived). */
  head!: RequestFields;
  /** The request body. */
  readonly body: H3Body;
  /** Trailer fields, once they came. */
  trailers: HeaderList | undefined;
  /** Whether the client ended its side after a whole request. */
  remoteEnded = false;
  /** Whether the client reset the stream, or the connection ended under it. */
  gone = false;
  /**
   * When the handler first waited for body bytes (ms since the epoch; 0 before): `--min-body-rate`
   * counts from then.
   */
  bodyStart = 0;
  /** Body bytes received (DATA payloads). */
  received = 0;
  /** Since when a response write has waited for the stream to take it (0: none waits). */
  writingSince = 0;
  #writes = 0;
  #lostSignal: Promise<never> | undefined;
  #rejectWrites: ((e: Error) => void) | undefined;
  /** The largest body the stream's mount takes when no Content-Length was declared (0: none). */
  maxBody = 0;
  #gone: (() => void) | undefined;

  /** A stream with QUIC id `id`. */
  constructor(id: number) {
    this.id = id;
    this.body = new H3Body(this);
  }

  /**
   * A promise that rejects once the stream is lost. A write QUIC's flow control holds cannot be
   * interrupted (Deno's `abort()` waits for the write in flight), so a writer waits on this too.
   */
  get lostSignal(): Promise<never> {
    if (this.#lostSignal === undefined) {
      this.#lostSignal = new Promise<never>((_, reject) => this.#rejectWrites = reject);
      this.#lostSignal.catch(() => {});
      if (this.gone) this.#rejectWrites!(new StreamGone(`stream ${this.id} was cut`));
    }
    return this.#lostSignal;
  }

  /** A response write was handed to the stream. */
  startWrite(): void {
    if (this.#writes++ === 0) this.writingSince = Date.now();
  }

  /** A response write was taken (QUIC's flow control let it go) or failed: progress, or none left. */
  readonly endWrite = (): void => {
    this.writingSince = --this.#writes === 0 ? 0 : Date.now();
  };

  /** Part of {@linkcode ClientPresence}: `gone` is called once the client resets the stream. */
  watchGone(gone: () => void): void {
    if (this.gone) gone();
    else this.#gone = gone;
  }

  /** The client went away: readers and watchers learn it. */
  lost(): void {
    if (this.gone) return;
    this.gone = true;
    this.#rejectWrites?.(new StreamGone(`stream ${this.id} was cut`));
    this.body.wake();
    const g = this.#gone;
    this.#gone = undefined;
    g?.();
  }
}

/** A request body over DATA frames. */
export class H3Body extends Body {
  #stream: H3Stream;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #waiter: (() => void) | undefined;
  #roomWaiter: (() => void) | undefined;
  /** Set by the connection: called when a read starts waiting, and when it stops. */
  onWait: ((waiting: boolean) => void) | undefined;

  /** The body of `stream`. */
  constructor(stream: H3Stream) {
    super();
    this.#stream = stream;
  }

  /** Bytes received and not yet read. */
  get queued(): number {
    return this.#queued;
  }

  /** The connection hands over DATA bytes (a copy the body keeps). */
  push(chunk: Uint8Array): void {
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    this.#stream.received += chunk.length;
    this.wake();
  }

  /** Resolves when the queue is below {@linkcode BODY_QUEUE_LIMIT} (or the stream is gone). */
  room(): Promise<void> {
    if (this.#queued < BODY_QUEUE_LIMIT || this.#stream.gone) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiter = resolve);
  }

  /** Wakes a reader (new bytes, the end, or the stream gone). */
  wake(): void {
    const w = this.#waiter;
    if (w !== undefined) {
      this.#waiter = undefined;
      w();
    }
    if (this.#stream.gone) this.#freeRoom();
  }

  #freeRoom(): void {
    const r = this.#roomWaiter;
    if (r !== undefined) {
      this.#roomWaiter = undefined;
      r();
    }
  }

  /** The next piece; waits for DATA; null at the end; throws when the client went away. */
  protected async readChunk(): Promise<Uint8Array | null> {
    const s = this.#stream;
    while (this.#queue.length === 0) {
      if (s.gone) throw new StreamGone(`stream ${s.id} was reset`);
      if (s.remoteEnded) return null;
      this.onWait?.(true);
      await new Promise<void>((resolve) => this.#waiter = resolve);
      this.onWait?.(false);
    }
    const chunk = this.#queue.shift()!;
    this.#queued -= chunk.length;
    if (this.#queued < BODY_QUEUE_LIMIT) this.#freeRoom();
    if (s.maxBody > 0 && this.bytesRead + chunk.length > s.maxBody) {
      throw new Refusal(STATUS.ContentTooLarge, `request body is larger than ${s.maxBody} bytes`);
    }
    return chunk;
  }

  /** Bytes still owed by the declared Content-Length. */
  override remainingKnown(): number {
    const cl = this.#stream.head.contentLength;
    return cl >= 0 ? Math.max(0, cl - this.bytesRead) : 0;
  }

  /** The trailers, once the body has ended. */
  override get trailers(): HeaderList | undefined {
    return this.#stream.trailers;
  }
}
