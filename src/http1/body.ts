/**
 * Request bodies as streams the handler pulls (RFC 9112 §6–§7): a Content-Length body, a chunked
 * body with its extensions and trailers, and the empty body. Bytes already buffered by the
 * connection are handed out first; after that a body reads from the socket itself, never more
 * than it is owed, so the next pipelined request stays in the socket for the connection.
 *
 * @module
 */

import { Body } from "../http/body.ts";
import { ParseError } from "./parse_error.ts";
import { STATUS } from "../http/status.ts";
import type { ReadBuffer } from "./read_buffer.ts";

export { Body, EmptyBody } from "../http/body.ts";

/**
 * Where a body gets its bytes: the connection's read buffer (which the body consumes) and the
 * socket behind it.
 */
export interface ByteSource {
  /** The connection's read buffer. */
  readonly input: ReadBuffer;
  /** Reads from the socket straight into `into` (only called when the buffer is empty). */
  readDirect(into: Uint8Array): Promise<number | null>;
}

/** Largest piece a body read hands out when it reads from the socket itself. */
export const DIRECT_READ_BYTES = 64 * 1024;

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
    const dest = want === into.length ? into : into.subarray(0, want);
    if (src.input.available() > 0) {
      const n = src.input.takeInto(dest);
      this.#remaining -= n;
      return n;
    }
    const n = await src.readDirect(dest);
    if (n === null || n === 0) throw incomplete();
    this.#remaining -= n;
    return n;
  }

  /** A fresh piece: buffered bytes first (sized exactly), else up to 64 KiB from the socket. */
  protected async readChunk(): Promise<Uint8Array | null> {
    const want = this.#remaining;
    if (want === 0) return null;
    const avail = this.#src.input.available();
    const into = new Uint8Array(avail > 0 ? Math.min(avail, want) : Math.min(want, DIRECT_READ_BYTES));
    return exactly(into, (await this.readIntoChunk(into))!);
  }
}
