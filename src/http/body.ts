/**
 * A request body as every protocol hands it to a handler: a stream of byte chunks the handler
 * pulls, each chunk its own to keep. HTTP/1.1 implements it over the connection's read buffer
 * (`src/http1/body.ts`), HTTP/2 over a stream's DATA frames, and the in-memory harness over bytes.
 *
 * @module
 */

import { concatBytes } from "../bytes.ts";
import type { HeaderList } from "./headers.ts";

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
  /** Called once when a read finds the end of the body (a protocol's watch starts then). */
  onEnd: (() => void) | undefined;

  /** The next chunk of the body, or null at its end. */
  async read(): Promise<Uint8Array | null> {
    if (this.done) return null;
    if (!this.started) {
      this.started = true;
      if (this.onFirstRead !== undefined) await this.onFirstRead();
    }
    try {
      const chunk = await this.readChunk();
      if (chunk === null) this.#ended();
      else this.bytesRead += chunk.length;
      return chunk;
    } catch (e) {
      this.failed = true;
      throw e;
    }
  }

  #ended(): void {
    this.done = true;
    const f = this.onEnd;
    if (f !== undefined) {
      this.onEnd = undefined;
      f();
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
      if (n === null) this.#ended();
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
