/**
 * Request bodies as streams the handler pulls (RFC 9112 §6–§7): a Content-Length body, a chunked
 * body with its extensions and trailers, and the empty body. Bytes already buffered by the
 * connection are handed out first; after that a body reads from the socket itself, never more
 * than it is owed, so the next pipelined request stays in the socket for the connection.
 *
 * @module
 */

import { concatBytes } from "../bytes.ts";
import type { HeaderList } from "./headers.ts";
import { ParseError } from "./parse_error.ts";
import { STATUS } from "./status.ts";

/**
 * Where a body gets its bytes: the connection's read buffer (`buf[start..end)`, which the body
 * consumes by advancing `start`) and the socket behind it.
 */
export interface ByteSource {
  /** The connection's read buffer. */
  buf: Uint8Array;
  /** Index of the first unconsumed byte in {@linkcode ByteSource.buf}. */
  start: number;
  /** Index one past the last received byte in {@linkcode ByteSource.buf}. */
  end: number;
  /** Reads more bytes into the buffer; false at end of stream. */
  fill(): Promise<boolean>;
  /** Reads from the socket straight into `into` (only called when the buffer is empty). */
  readDirect(into: Uint8Array): Promise<number | null>;
}

/** Largest piece a body read hands out when it reads from the socket itself. */
export const DIRECT_READ_BYTES = 64 * 1024;

/**
 * A request body, read as a stream of byte chunks. Each chunk is the caller's to keep.
 *
 * @example
 * ```ts ignore
 * for await (const chunk of req.body) console.log(chunk.length);
 * ```
 */
export abstract class Body implements AsyncIterable<Uint8Array> {
  /** Body bytes handed out so far. */
  bytesRead = 0;
  /** Whether the whole body has been read (or there was none). */
  done = false;
  /** Whether reading has begun. */
  started = false;
  /** Set when a read failed: the connection cannot be reused. */
  failed = false;
  /** Called once before the first read; the connection uses it to send `100 Continue`. */
  onFirstRead: (() => Promise<void>) | undefined;

  /** The next chunk of the body, or null at its end. */
  async read(): Promise<Uint8Array | null> {
    if (this.done) return null;
    if (!this.started) {
      this.started = true;
      if (this.onFirstRead !== undefined) await this.onFirstRead();
    }
    try {
      const chunk = await this.readChunk();
      if (chunk === null) this.done = true;
      else this.bytesRead += chunk.length;
      return chunk;
    } catch (e) {
      this.failed = true;
      throw e;
    }
  }

  /** Reads the next piece; implemented by each framing. */
  protected abstract readChunk(): Promise<Uint8Array | null>;

  /**
   * Reads the next bytes of the body into `into` (no allocation: for streaming large bodies
   * through one buffer); resolves with how many, or null at the end.
   */
  async readInto(into: Uint8Array): Promise<number | null> {
    if (this.done) return null;
    if (!this.started) {
      this.started = true;
      if (this.onFirstRead !== undefined) await this.onFirstRead();
    }
    try {
      const n = await this.readIntoChunk(into);
      if (n === null) this.done = true;
      else this.bytesRead += n;
      return n;
    } catch (e) {
      this.failed = true;
      throw e;
    }
  }

  /** {@linkcode Body.readInto} for each framing; by default through {@linkcode Body.readChunk}. */
  protected async readIntoChunk(into: Uint8Array): Promise<number | null> {
    const chunk = await this.readChunk();
    if (chunk === null) return null;
    if (chunk.length > into.length) throw new RangeError("readInto needs a buffer of at least 64 KiB");
    into.set(chunk);
    return chunk.length;
  }

  /** Iterates the remaining chunks. */
  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      const chunk = await this.read();
      if (chunk === null) return;
      yield chunk;
    }
  }

  /** The whole body in one array (use only for bodies known to be small). */
  async bytes(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of this) {
      parts.push(chunk);
      total += chunk.length;
    }
    return concatBytes(parts, total);
  }

  /** The whole body decoded as UTF-8. */
  async text(): Promise<string> {
    return new TextDecoder().decode(await this.bytes());
  }

  /**
   * Reads and discards the rest of the body, up to `maxBytes`. Returns true when the body ended
   * within the bound, false when it did not (the connection must then close).
   */
  async drain(maxBytes: number): Promise<boolean> {
    if (this.done) return true;
    if (this.failed) return false;
    const known = this.remainingKnown();
    if (known > maxBytes) return false;
    let seen = 0;
    try {
      for (;;) {
        const chunk = await this.read();
        if (chunk === null) return true;
        seen += chunk.length;
        if (seen > maxBytes) return false;
      }
    } catch {
      return false;
    }
  }

  /** Bytes still owed when the framing says (Content-Length), or 0 when it cannot tell. */
  remainingKnown(): number {
    return 0;
  }

  /** Trailer fields of a chunked body, once it has been read to the end. */
  get trailers(): HeaderList | undefined {
    return undefined;
  }

  /** A `ReadableStream` over the remaining chunks (for fetch-style handlers). */
  stream(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          const chunk = await this.read();
          if (chunk === null) controller.close();
          else controller.enqueue(chunk);
        } catch (e) {
          controller.error(e);
        }
      },
    }, { highWaterMark: 0 });
  }
}

/** The body of a request without one: ends at once. */
export class EmptyBody extends Body {
  /** Creates an ended body. */
  constructor() {
    super();
    this.done = true;
  }
  /** Always null. */
  protected readChunk(): Promise<Uint8Array | null> {
    return Promise.resolve(null);
  }
}

/**
 * The first `n` bytes of a freshly read `into`, in an array of their own when the read fell short:
 * a handler may keep every chunk it reads, so a chunk must never pin a larger buffer behind it
 * (a 10-byte read must not hold 64 KiB).
 */
export function exactly(into: Uint8Array, n: number): Uint8Array {
  return n === into.length ? into : into.slice(0, n);
}

/** The body ended (the connection closed) before its framing said it would. */
export function incomplete(): ParseError {
  return new ParseError(STATUS.BadRequest, "body_incomplete", "connection closed before the body ended");
}

/** A body framed by Content-Length (RFC 9112 §6.2). */
export class FixedBody extends Body {
  #src: ByteSource;
  #remaining: number;

  /** A body of exactly `length` bytes from `src`. */
  constructor(src: ByteSource, length: number) {
    super();
    this.#src = src;
    this.#remaining = length;
    if (length === 0) this.done = true;
  }

  /** Bytes still owed. */
  override remainingKnown(): number {
    return this.#remaining;
  }

  /** Copies buffered bytes first, then reads the socket into `into`, never past the body. */
  protected override async readIntoChunk(into: Uint8Array): Promise<number | null> {
    const want = Math.min(this.#remaining, into.length);
    if (want === 0) return this.#remaining === 0 ? null : 0;
    const src = this.#src;
    const avail = src.end - src.start;
    if (avail > 0) {
      const n = avail < want ? avail : want;
      into.set(src.buf.subarray(src.start, src.start + n));
      src.start += n;
      this.#remaining -= n;
      return n;
    }
    const n = await src.readDirect(want === into.length ? into : into.subarray(0, want));
    if (n === null || n === 0) throw incomplete();
    this.#remaining -= n;
    return n;
  }

  /** A fresh piece: buffered bytes first (sized exactly), else up to 64 KiB from the socket. */
  protected async readChunk(): Promise<Uint8Array | null> {
    const want = this.#remaining;
    if (want === 0) return null;
    const avail = this.#src.end - this.#src.start;
    const into = new Uint8Array(avail > 0 ? Math.min(avail, want) : Math.min(want, DIRECT_READ_BYTES));
    return exactly(into, (await this.readIntoChunk(into))!);
  }
}
