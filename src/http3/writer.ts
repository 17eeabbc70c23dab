/**
 * The exchange contract's `ResponseWriter` over an HTTP/3 request stream (RFC 9114 §4.1): the
 * head as a HEADERS frame (QPACK, static table only), the body as DATA frames written as QUIC's
 * flow control lets them go, the end as the stream's FIN; trailers (the `trailers` capability)
 * as a last HEADERS frame. HTTP/1.1's capabilities (`switch`, `close`) are not offered.
 *
 * @module
 */

import {
  type Capabilities,
  type ResponseHeaders,
  type ResponseWriter,
  type SendTrailers,
  trailerFields,
} from "../http/writer.ts";
import { type HeadExtras, responseFields } from "../http2/response_fields.ts";
import { FRAME, frame, frameHead } from "./frames.ts";
import { encodeFieldSection } from "./qpack.ts";

/** Bodies up to this size leave with their head in one write. */
const SMALL_BODY = 16 * 1024;

/** Where a response's bytes go: one QUIC send stream. */
export interface StreamSink {
  /** Queues bytes on the stream; resolves when the stream took them (flow control permitting). */
  write(bytes: Uint8Array): Promise<void>;
  /** Ends the stream (FIN). */
  close(): Promise<void>;
  /** Resets the stream (RESET_STREAM; Deno's API sets no application error code). */
  abort(): void;
  /** Whether the client sent `TE: trailers`. */
  readonly trailersWanted: boolean;
  /** Called once when the response is complete or aborted. */
  responded(): void;
}

/**
 * One response on one request stream.
 *
 * @example
 * ```ts ignore
 * const res = new H3Writer(sink, { head: false, requestId: "1", hsts: undefined });
 * await res.send(200, [["content-type", "text/plain"]], "hello\n");
 * ```
 */
export class H3Writer implements ResponseWriter {
  /** The status sent (0 until the head is written). */
  status = 0;
  /** Whether the head has been written. */
  headersSent = false;
  /** Whether the response is complete or aborted. */
  finished = false;
  /** Body bytes accepted. */
  bodyBytes = 0;
  /** Bytes handed to the stream (frames included): the access log's and the counters'. */
  wireBytes = 0;
  #sink: StreamSink;
  #isHead: boolean;
  #extras: HeadExtras;
  #fields: Array<[string, string]> | undefined;
  #length = -1;
  #noBody = false;

  /** A writer for one stream. */
  constructor(sink: StreamSink, facts: { head: boolean; requestId: string; hsts: string | undefined }) {
    this.#sink = sink;
    this.#isHead = facts.head;
    this.#extras = { requestId: facts.requestId, hsts: facts.hsts };
  }

  /** Body bytes the declared Content-Length still allows; -1 when none was declared. */
  get remainingLength(): number {
    return this.#length < 0 ? -1 : this.#length - this.bodyBytes;
  }

  /** Whether a response with `status` carries no body (HEAD, 1xx, 204, 304). */
  discardsBodyFor(status: number): boolean {
    return this.#isHead || status === 204 || status === 304 || status < 200;
  }

  /** HTTP/3 offers `trailers` (to a client that sent `TE: trailers`), not `switch` nor `close`. */
  capability<K extends keyof Capabilities>(name: K): Capabilities[K] | undefined {
    if (name !== "trailers" || !this.#sink.trailersWanted) return undefined;
    const send: SendTrailers = (fields) => this.#endWithTrailers(fields);
    return send as Capabilities[K];
  }

  async #endWithTrailers(fields: ReadonlyArray<readonly [string, string]>): Promise<void> {
    if (this.finished) return;
    const list = trailerFields(fields);
    if (!this.headersSent || this.#noBody || list.length === 0) return await this.end();
    await this.#guard(async () => {
      await this.#sendHead();
      if (this.#length >= 0 && this.bodyBytes < this.#length) {
        throw new RangeError(`body shorter than its Content-Length (${this.#length})`);
      }
      await this.#put(frame(FRAME.HEADERS, encodeFieldSection(list)));
      await this.#sink.close();
    });
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

  /** The prepared head as a HEADERS frame, once. */
  #sendHead(): Promise<void> {
    const fields = this.#fields;
    if (fields === undefined) return Promise.resolve();
    this.#fields = undefined;
    return this.#put(frame(FRAME.HEADERS, encodeFieldSection(fields)));
  }

  #put(bytes: Uint8Array): Promise<void> {
    this.wireBytes += bytes.length;
    const p = this.#sink.write(bytes);
    // Not every write is awaited (a head leaves with the body's first piece): a failure shows in the next.
    p.catch(() => {});
    return p;
  }

  /** Sends a piece of the body as a DATA frame. */
  async write(chunk: Uint8Array | string): Promise<void> {
    if (!this.headersSent) this.writeHead(200);
    if (this.finished) throw new Error("response already finished");
    const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    await this.#guard(async () => {
      if (this.#wholeSmall(bytes)) return await this.#sendWhole(bytes);
      const head = this.#sendHead();
      if (this.#noBody) {
        this.bodyBytes += bytes.length;
        return await head;
      }
      await this.#data(bytes);
    }, false);
  }

  #data(bytes: Uint8Array): Promise<void> {
    if (this.#length >= 0 && this.bodyBytes + bytes.length > this.#length) {
      throw new RangeError(`body longer than its Content-Length (${this.#length})`);
    }
    this.bodyBytes += bytes.length;
    if (bytes.length === 0) return Promise.resolve();
    // The frame's header and its payload go as two writes: no copy of the payload.
    this.#put(frameHead(FRAME.DATA, bytes.length)).catch(() => {});
    return this.#put(bytes);
  }

  /** Everything is handed to the stream as it is written: nothing to flush. */
  flush(): Promise<void> {
    if (this.finished || this.#fields === undefined) return Promise.resolve();
    return this.#guard(() => this.#sendHead(), false);
  }

  /** Ends the response. */
  async end(chunk?: Uint8Array | string): Promise<void> {
    if (this.finished) return;
    if (!this.headersSent) this.writeHead(200, [], chunk === undefined ? 0 : undefined);
    const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    await this.#guard(async () => {
      if (bytes !== undefined && this.#wholeSmall(bytes)) return await this.#sendWhole(bytes);
      const head = this.#sendHead();
      if (this.#noBody) {
        if (bytes !== undefined) this.bodyBytes += bytes.length;
        await head;
      } else {
        if (this.#length >= 0 && this.bodyBytes + (bytes?.length ?? 0) < this.#length) {
          throw new RangeError(`body shorter than its Content-Length (${this.#length})`);
        }
        if (bytes !== undefined && bytes.length > 0) await this.#data(bytes);
        else await head;
      }
      await this.#sink.close();
    });
  }

  /** Whether `bytes` is the whole body of a small response whose head has not left yet. */
  #wholeSmall(bytes: Uint8Array): boolean {
    return this.#fields !== undefined && !this.#noBody && bytes.length > 0 &&
      bytes.length <= SMALL_BODY && this.bodyBytes + bytes.length === this.#length;
  }

  /** A whole small response: HEADERS and DATA in one write (each write is a QUIC stream op), then FIN. */
  async #sendWhole(bytes: Uint8Array): Promise<void> {
    this.bodyBytes += bytes.length;
    const head = frame(FRAME.HEADERS, encodeFieldSection(this.#fields!));
    this.#fields = undefined;
    const dataHead = frameHead(FRAME.DATA, bytes.length);
    const all = new Uint8Array(head.length + dataHead.length + bytes.length);
    all.set(head);
    all.set(dataHead, head.length);
    all.set(bytes, head.length + dataHead.length);
    await this.#put(all);
    await this.#sink.close();
  }

  /** Runs a step; a failure aborts the response; `last` marks it finished when it succeeds. */
  async #guard(step: () => Promise<void>, last = true): Promise<void> {
    try {
      await step();
    } catch (e) {
      this.abort();
      throw e;
    }
    if (last && !this.finished) {
      this.finished = true;
      this.#sink.responded();
    }
  }

  /** Ends a broken response: the stream is reset. */
  abort(): void {
    if (this.finished) return;
    this.finished = true;
    this.#sink.abort();
    this.#sink.responded();
  }
}
