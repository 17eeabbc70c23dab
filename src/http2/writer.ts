/**
 * The exchange contract's `ResponseWriter` over an HTTP/2 stream: the head as a HEADERS frame
 * (`:status`, lower-case names, no connection-specific fields), the body as DATA frames sent
 * only as far as the client's windows allow, waiting for WINDOW_UPDATE beyond, and the end as
 * END_STREAM; trailers (the `trailers` capability) as a last HEADERS frame. HTTP/1.1's
 * capabilities (`switch`, `close`) are not offered.
 *
 * @module
 */

import {
  acceptsTrailers,
  type Capabilities,
  type ResponseHeaders,
  type ResponseWriter,
  type SendTrailers,
  trailerFields,
} from "../http/writer.ts";
import { type HeadExtras, responseFields } from "./response_fields.ts";
import { ERROR } from "./errors.ts";
import type { H2Session } from "./session.ts";
import type { H2Stream } from "./stream.ts";

/** Output buffered beyond this makes `write()` wait for the socket. */
const FLUSH_THRESHOLD = 64 * 1024;

/** What the writer needs of its connection. */
export interface StreamSink {
  /** Writes the session's output out; resolves when written. */
  flush(): Promise<void>;
  /** Called once when the response is complete (or aborted). */
  responded(stream: H2Stream): void;
  /** Whether the connection has closed (nothing more can be written). */
  readonly closed: boolean;
}

/**
 * One response on one stream.
 *
 * @example
 * ```ts ignore
 * const res = new H2Writer(session, stream, sink, { head: false, requestId: "1", hsts: undefined });
 * await res.send(200, [["content-type", "text/plain"]], "hello\n");
 * ```
 */
export class H2Writer implements ResponseWriter {
  /** The status sent (0 until the head is written). */
  status = 0;
  /** Whether the head has been written. */
  headersSent = false;
  /** Whether the response is complete or aborted. */
  finished = false;
  /** Body bytes accepted. */
  bodyBytes = 0;
  #session: H2Session;
  #stream: H2Stream;
  #sink: StreamSink;
  #isHead: boolean;
  #extras: HeadExtras;
  #fields: Array<[string, string]> | undefined;
  #length = -1;
  #noBody = false;

  /** A writer for `stream`'s response. */
  constructor(
    session: H2Session,
    stream: H2Stream,
    sink: StreamSink,
    facts: { head: boolean; requestId: string; hsts: string | undefined; altSvc?: string },
  ) {
    this.#session = session;
    this.#stream = stream;
    this.#sink = sink;
    this.#isHead = facts.head;
    this.#extras = { requestId: facts.requestId, hsts: facts.hsts, altSvc: facts.altSvc };
  }

  /** Body bytes the declared Content-Length still allows; -1 when none was declared. */
  get remainingLength(): number {
    return this.#length < 0 ? -1 : this.#length - this.bodyBytes;
  }

  /** Whether a response with `status` carries no body (HEAD, 1xx, 204, 304). */
  discardsBodyFor(status: number): boolean {
    return this.#isHead || status === 204 || status === 304 || status < 200;
  }

  /** HTTP/2 offers `trailers` (to a client that sent `TE: trailers`), not `switch` nor `close`. */
  capability<K extends keyof Capabilities>(name: K): Capabilities[K] | undefined {
    if (name !== "trailers" || !acceptsTrailers(this.#stream.head.headers.get("te"))) return undefined;
    const send: SendTrailers = (fields) => this.#endWithTrailers(fields);
    return send as Capabilities[K];
  }

  /** The `trailers` capability: the body's end, then a HEADERS frame with END_STREAM. */
  async #endWithTrailers(fields: ReadonlyArray<readonly [string, string]>): Promise<void> {
    if (this.finished) return;
    const list = trailerFields(fields);
    if (!this.headersSent || this.#noBody || list.length === 0) return await this.end();
    try {
      this.#sendHead(false);
      if (this.#length >= 0 && this.bodyBytes < this.#length) {
        throw new RangeError(`body shorter than its Content-Length (${this.#length})`);
      }
      if (this.#stream.resetCode !== -1) {
        throw new Deno.errors.ConnectionReset(`stream ${this.#stream.id} was reset`);
      }
      this.#session.sendHeaders(this.#stream, list, true);
    } catch (e) {
      this.abort();
      throw e;
    }
    this.finished = true;
    this.#sink.responded(this.#stream);
  }

  /** Sends a whole response. */
  send(status: number, headers?: ResponseHeaders, body?: Uint8Array | string): Promise<void> {
    const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
    this.writeHead(status, headers, bytes?.length ?? 0);
    return this.end(bytes);
  }

  /** Prepares the head; it leaves with the first body piece or the end. */
  writeHead(status: number, headers?: ResponseHeaders, contentLength?: number): void {
    if (this.headersSent) throw new Error("headers already sent");
    if (!Number.isInteger(status) || status < 200 || status > 999) {
      throw new RangeError(`invalid status ${status}`);
    }
    this.headersSent = true;
    this.status = status;
    const { fields, length } = responseFields(status, headers, contentLength, this.#extras);
    this.#noBody = this.discardsBodyFor(status);
    this.#length = this.#noBody ? -1 : length;
    this.#fields = fields;
  }

  /** Sends the prepared head (with END_STREAM when nothing follows). */
  #sendHead(end: boolean): void {
    const fields = this.#fields;
    if (fields === undefined) return;
    this.#fields = undefined;
    this.#session.sendHeaders(this.#stream, fields, end);
  }

  /** Sends a piece of the body under the client's windows. */
  async write(chunk: Uint8Array | string): Promise<void> {
    if (!this.headersSent) this.writeHead(200);
    if (this.finished) throw new Error("response already finished");
    const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    this.#sendHead(false);
    if (this.#noBody) {
      this.bodyBytes += bytes.length;
      return;
    }
    await this.#data(bytes, false);
  }

  /** Sends `bytes` as DATA, waiting for window as needed. */
  async #data(bytes: Uint8Array, end: boolean): Promise<void> {
    const s = this.#stream;
    if (this.#length >= 0 && this.bodyBytes + bytes.length > this.#length) {
      throw new RangeError(`body longer than its Content-Length (${this.#length})`);
    }
    this.bodyBytes += bytes.length;
    let off = 0;
    for (;;) {
      if (s.resetCode !== -1) throw new Deno.errors.ConnectionReset(`stream ${s.id} was reset`);
      if (this.#sink.closed) throw new Deno.errors.ConnectionReset(`the connection of stream ${s.id} closed`);
      // The connection's queue is bounded whatever the windows allow: past it, wait for the socket.
      const room = this.#session.queueRoom;
      if (room <= 0) {
        await this.#sink.flush();
        continue;
      }
      const rest = bytes.length - off;
      const piece = rest <= room
        ? (off === 0 ? bytes : bytes.subarray(off))
        : bytes.subarray(off, off + room);
      const sent = this.#session.sendData(s, piece, end && piece.length === rest);
      off += sent;
      if (off >= bytes.length) break;
      if (sent === piece.length) continue;
      // Out of window: what is queued goes out, then wait for WINDOW_UPDATE (or a reset).
      const flushed = this.#sink.flush();
      s.stalledSince = Date.now();
      await new Promise<void>((resolve) => s.windowWaiter = resolve);
      s.stalledSince = 0;
      await flushed;
    }
    if (this.#session.out.pending > FLUSH_THRESHOLD) await this.#sink.flush();
  }

  /** Sends what is buffered. */
  flush(): Promise<void> {
    if (!this.finished) this.#sendHead(false);
    return this.#sink.flush();
  }

  /** Ends the response. */
  async end(chunk?: Uint8Array | string): Promise<void> {
    if (this.finished) return;
    if (!this.headersSent) this.writeHead(200, [], chunk === undefined ? 0 : undefined);
    const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    try {
      if (this.#noBody || (bytes === undefined || bytes.length === 0) && this.#fields !== undefined) {
        if (bytes !== undefined) this.bodyBytes += bytes.length;
        if (this.#fields !== undefined) this.#sendHead(true);
        else this.#session.sendData(this.#stream, new Uint8Array(0), true);
      } else {
        this.#sendHead(false);
        if (this.#length >= 0 && this.bodyBytes + (bytes?.length ?? 0) < this.#length) {
          throw new RangeError(`body shorter than its Content-Length (${this.#length})`);
        }
        await this.#data(bytes ?? new Uint8Array(0), true);
      }
    } catch (e) {
      this.abort();
      throw e;
    }
    this.finished = true;
    this.#sink.responded(this.#stream);
  }

  /** Ends a broken response: the stream is reset. */
  abort(): void {
    if (this.finished) return;
    this.finished = true;
    this.#session.reset(this.#stream, ERROR.INTERNAL_ERROR);
    this.#sink.responded(this.#stream);
  }
}
