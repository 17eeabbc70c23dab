/**
 * One HTTP/2 stream's state (RFC 9113 §5.1) as the server sees it: what the client sent (the
 * request, body pieces waiting to be read, trailers), the send window, and who waits on what.
 * The stream's request body is an {@linkcode H2Body}: the exchange contract's `Body` over the
 * DATA frames, which returns flow-control credit as the handler reads.
 *
 * @module
 */

import { Body } from "../http/body.ts";
import { Refusal } from "../http/refusal.ts";
import { STATUS } from "../http/status.ts";
import type { HeaderList } from "../http/headers.ts";
import type { ClientPresence, RequestFields } from "../http/request.ts";

/** Why a stream's body read failed: the stream was reset or the connection went away. */
export class StreamReset extends Error {
  /** Creates the error with the stream's error code. */
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/** What a stream needs from its session. */
export interface StreamOwner {
  /** The handler took `n` body bytes of `stream`: their credit may go back to the client. */
  consumed(stream: H2Stream, n: number): void;
}

/**
 * A stream opened by a client's HEADERS.
 *
 * @example
 * ```ts ignore
 * const stream = session.stream(1);
 * for await (const chunk of stream.body) console.log(chunk.length);
 * ```
 */
export class H2Stream implements ClientPresence {
  /** Stream id (odd). */
  readonly id: number;
  /** The request's fields. */
  readonly head: RequestFields;
  /** The request body. */
  readonly body: H2Body;
  /** Whether the client ended its side (END_STREAM). */
  remoteEnded = false;
  /** Whether the server ended its side (END_STREAM sent). */
  localEnded = false;
  /** The reset code once the stream was reset (either side), else -1. */
  resetCode = -1;
  /** Whether the response HEADERS went out. */
  headersSent = false;
  /** How much the client still lets the server send on this stream. */
  sendWindow: number;
  /** How much the client may still send on this stream. */
  recvWindow: number;
  /** Body bytes received in DATA frames. */
  received = 0;
  /** Body bytes read by the handler whose credit has not been returned. */
  unacked = 0;
  /** Trailer fields, once they came. */
  trailers: HeaderList | undefined;
  /** Resolves a writer waiting for send window (or for the reset that ends the wait). */
  windowWaiter: (() => void) | undefined;
  /** When a writer began waiting for window (ms since the epoch); 0 when none waits. */
  stalledSince = 0;
  /** The largest body the stream's mount takes when no Content-Length was declared (0: none). */
  maxBody = 0;
  /** Whether the stream is still counted against the concurrency limit. */
  active = true;
  /** Told once when the client goes away (see {@linkcode H2Stream.watchGone}). */
  #gone: (() => void) | undefined;

  /** A stream with its request; windows as the settings give them. */
  constructor(id: number, head: RequestFields, owner: StreamOwner, sendWindow: number, recvWindow: number) {
    this.id = id;
    this.head = head;
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
    this.body = new H2Body(this, owner);
  }

  /** Whether both sides are done or the stream was reset. */
  get closed(): boolean {
    return this.resetCode !== -1 || (this.remoteEnded && this.localEnded);
  }

  /**
   * Part of {@linkcode ClientPresence}: `gone` is called once the stream is reset (RST_STREAM from
   * the client, or a reset the connection's end or an error caused), at once if it already was.
   */
  watchGone(gone: () => void): void {
    if (this.resetCode !== -1) gone();
    else this.#gone = gone;
  }

  /** The stream closed: a reset tells a watcher that the client has gone. */
  closedNow(): void {
    const gone = this.#gone;
    this.#gone = undefined;
    if (gone !== undefined && this.resetCode !== -1) gone();
  }

  /** Wakes a writer waiting for window. */
  wakeWriter(): void {
    const w = this.windowWaiter;
    if (w !== undefined) {
      this.windowWaiter = undefined;
      w();
    }
  }
}

/**
 * A request body over a stream's DATA frames: pieces wait in a queue bounded by the stream's
 * window; each read returns the credit (the session sends WINDOW_UPDATE as it sees fit).
 */
export class H2Body extends Body {
  #stream: H2Stream;
  #owner: StreamOwner;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #waiter: (() => void) | undefined;
  /** Set by the connection: called when a read starts waiting, and when it stops. */
  onWait: ((waiting: boolean) => void) | undefined;

  /** The body of `stream`. */
  constructor(stream: H2Stream, owner: StreamOwner) {
    super();
    this.#stream = stream;
    this.#owner = owner;
  }

  /** Bytes received and not yet read. */
  get queued(): number {
    return this.#queued;
  }

  /** The session hands over a DATA payload (a copy the body keeps). */
  push(chunk: Uint8Array): void {
    if (chunk.length > 0) {
      this.#queue.push(chunk);
      this.#queued += chunk.length;
    }
    this.#wake();
  }

  /** The session says the client ended the stream, or it was reset. */
  end(): void {
    this.#wake();
  }

  /** Drops what is queued (the stream was reset); returns how many bytes were dropped. */
  discard(): number {
    const n = this.#queued;
    this.#queue = [];
    this.#queued = 0;
    this.#wake();
    return n;
  }

  #wake(): void {
    const w = this.#waiter;
    if (w !== undefined) {
      this.#waiter = undefined;
      w();
    }
  }

  /** Waits until a piece is queued; false at END_STREAM; throws when the stream was reset. */
  async #ready(): Promise<boolean> {
    const s = this.#stream;
    while (this.#queue.length === 0) {
      if (s.resetCode !== -1) throw new StreamReset(s.resetCode, `stream ${s.id} was reset`);
      if (s.remoteEnded) return false;
      this.onWait?.(true);
      await new Promise<void>((resolve) => this.#waiter = resolve);
      this.onWait?.(false);
    }
    return true;
  }

  /** `n` more bytes read: their credit goes back; past the mount's limit the body is refused. */
  #took(n: number): void {
    const s = this.#stream;
    this.#queued -= n;
    this.#owner.consumed(s, n);
    if (s.maxBody > 0 && this.bytesRead + n > s.maxBody) {
      throw new Refusal(STATUS.ContentTooLarge, `request body is larger than ${s.maxBody} bytes`);
    }
  }

  /** The next piece; waits for DATA; null at END_STREAM; throws when the stream was reset. */
  protected async readChunk(): Promise<Uint8Array | null> {
    if (!await this.#ready()) return null;
    const chunk = this.#queue.shift()!;
    this.#took(chunk.length);
    return chunk;
  }

  /**
   * Fills `into` with every piece queued that fits (a frame is 16 KiB, a read of the socket
   * several of them): an upload writes its file in a few large pieces, not one per DATA frame.
   */
  protected override async readIntoChunk(into: Uint8Array): Promise<number | null> {
    if (!await this.#ready()) return null;
    let n = 0;
    while (this.#queue.length > 0 && n < into.length) {
      const chunk = this.#queue[0];
      const take = Math.min(chunk.length, into.length - n);
      into.set(take === chunk.length ? chunk : chunk.subarray(0, take), n);
      n += take;
      if (take === chunk.length) this.#queue.shift();
      else this.#queue[0] = chunk.subarray(take);
    }
    this.#took(n);
    return n;
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
