/**
 * One connection to an upstream target: the socket, a small read buffer, the strict reading of a
 * response head and of its body (a length, chunked with trailers, or to the close), and the watch
 * an idle pooled connection keeps so that one the upstream closed is never handed out.
 *
 * @module
 */

import {
  headEnd,
  latin1,
  parseResponseHead,
  type ResponseFraming,
  type ResponseHead,
  UpstreamProtocolError,
} from "./response_head.ts";
import { isFieldName, isFieldValue } from "../http/writer.ts";

/** Largest response head accepted from an upstream (nginx's proxy_buffer_size is 4-8 KiB; Caddy 1 MiB). */
export const MAX_RESPONSE_HEAD = 64 * 1024;
/** Largest trailer section or chunk-size line accepted from an upstream. */
const MAX_LINE = 16 * 1024;
/** Body reads go straight into one array of this size per connection, reused for every piece. */
const PIECE = 64 * 1024;
const CR = 0x0d;
const LF = 0x0a;

const CH_SIZE = 0;
const CH_DATA = 1;
const CH_DATA_END = 2;
const CH_TRAILERS = 3;
const CH_DONE = 4;

/**
 * A connection to one upstream target.
 *
 * @example
 * ```ts ignore
 * const c = new UpstreamConn(await Deno.connect({ hostname: "127.0.0.1", port: 9001 }));
 * await c.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
 * const head = await c.readHead();
 * ```
 */
export class UpstreamConn {
  /** The socket. */
  readonly conn: Deno.Conn;
  /** Requests this connection has carried. */
  uses = 0;
  /** When it went idle last (`performance.now()`). */
  idleSince = 0;
  /** Set once the connection cannot carry another request. */
  dead = false;
  /** Set when the pool closed it for not sending a response head in time. */
  timedOut = false;
  #buf = new Uint8Array(4096);
  #pos = 0;
  #end = 0;
  /** A read started while idle: the next fill takes its result. */
  #pending: Promise<number | null> | undefined;
  #framing: ResponseFraming = { kind: "none" };
  #left = 0;
  #chunkState = CH_DONE;
  /** Trailer fields of the last chunked body, once it ended. */
  trailers: Array<[string, string]> = [];
  #closed = false;
  #piece: Uint8Array | undefined;
  /**
   * Called before the body reader waits on the socket: the proxy flushes what it passed on, so a
   * response is sent as it arrives (SSE) while pieces that arrived together leave together.
   */
  beforeWait: (() => Promise<void>) | undefined;

  /** Wraps a connected socket. */
  constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  /** Writes all of `bytes`. */
  async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
  }

  /** Closes the socket (once). */
  close(): void {
    this.dead = true;
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }

  /**
   * Starts the idle watch: a read that, if it ends (the upstream closed, or sent bytes nobody
   * asked for), marks the connection dead and calls `gone`.
   */
  watchIdle(gone: () => void): void {
    if (this.#pos !== this.#end) {
      this.dead = true; // bytes beyond the response: never reuse
      return gone();
    }
    this.#pos = this.#end = 0;
    const p = this.#pending = this.conn.read(this.#buf).catch(() => null);
    p.then((n) => {
      if (this.#pending !== p) return; // taken by a request: its reader has the result
      this.#pending = undefined;
      this.dead = true;
      if (n !== null) this.#end = n;
      gone();
    });
  }

  /** Ends the idle watch: the connection carries a request now. */
  claim(): void {
    const p = this.#pending;
    if (p === undefined) return;
    this.#pendingClaimed = p;
    this.#pending = undefined;
  }
  #pendingClaimed: Promise<number | null> | undefined;

  /** Reads more into the buffer; false at the end of input. */
  async #fill(): Promise<boolean> {
    if (this.#pos === this.#end) this.#pos = this.#end = 0;
    else if (this.#end === this.#buf.length) {
      if (this.#pos > 0) {
        this.#buf.copyWithin(0, this.#pos, this.#end);
        this.#end -= this.#pos;
        this.#pos = 0;
      } else {
        if (this.#buf.length >= MAX_RESPONSE_HEAD) {
          throw new UpstreamProtocolError("head_too_large", "the upstream's response head is over 64 KiB");
        }
        const bigger = new Uint8Array(this.#buf.length * 4);
        bigger.set(this.#buf.subarray(0, this.#end));
        this.#buf = bigger;
      }
    }
    let n: number | null;
    const claimed = this.#pendingClaimed;
    if (claimed !== undefined) {
      this.#pendingClaimed = undefined;
      n = await claimed; // the idle read was into the start of the buffer, which was empty
      if (n === null) return false;
      this.#end = n;
      return true;
    }
    if (this.beforeWait !== undefined) await this.beforeWait();
    n = await this.conn.read(this.#buf.subarray(this.#end));
    if (n === null) return false;
    this.#end += n;
    return true;
  }

  /**
   * Reads one response head (1xx interim responses included: the caller skips them). Throws
   * {@linkcode UpstreamProtocolError} for a bad head, or one cut short by the upstream's close.
   */
  async readHead(): Promise<ResponseHead> {
    let scanned = this.#pos;
    for (;;) {
      const buf = this.#buf;
      const at = headEnd(buf.subarray(this.#pos), this.#end - this.#pos, scanned - this.#pos);
      if (at >= 0) {
        const head = parseResponseHead(buf.subarray(this.#pos), at);
        this.#pos += at;
        return head;
      }
      scanned = this.#end;
      const before = this.#pos;
      if (!await this.#fill()) {
        throw new UpstreamProtocolError(
          this.#end - this.#pos === 0 && this.uses > 0 ? "closed_idle" : "closed_in_head",
          "the upstream closed the connection before the end of its response head",
        );
      }
      scanned -= before - this.#pos; // the buffer may have moved
    }
  }

  /** Whether bytes past what was read so far are already buffered (more of the body is here). */
  get hasBuffered(): boolean {
    return this.#pos < this.#end;
  }

  /** The bytes buffered past the response head (a copy), emptying the buffer: a tunnel's first bytes. */
  takeBuffered(): Uint8Array {
    const out = this.#buf.slice(this.#pos, this.#end);
    this.#pos = this.#end = 0;
    return out;
  }

  /** Prepares to read a body framed as `framing`. */
  beginBody(framing: ResponseFraming): void {
    this.#framing = framing;
    this.trailers = [];
    if (framing.kind === "length") this.#left = framing.length;
    this.#chunkState = framing.kind === "chunked" ? CH_SIZE : CH_DONE;
  }

  /** Whether the body read so far ended cleanly and nothing else came: the connection may be reused. */
  get reusable(): boolean {
    return !this.dead && this.#pos === this.#end;
  }

  /**
   * The next piece of the body, or null at its end. The piece is a view of this connection's
   * buffers, valid until the next read: pass it on (a writer copies it or sends it before its
   * `write` resolves) and read again, so a large body costs one buffer, not one array per piece.
   */
  async readBody(): Promise<Uint8Array | null> {
    const f = this.#framing;
    if (f.kind === "none") return null;
    if (f.kind === "length") {
      if (this.#left === 0) return null;
      const piece = await this.#take(this.#left);
      if (piece === null) {
        this.dead = true;
        throw new UpstreamProtocolError("closed_in_body", "the upstream closed before the end of its body");
      }
      this.#left -= piece.length;
      return piece;
    }
    if (f.kind === "close") {
      const piece = await this.#take(PIECE);
      if (piece === null) this.dead = true;
      return piece;
    }
    return await this.#chunked();
  }

  /** Up to `max` body bytes: buffered ones first, else one read into the piece buffer. */
  async #take(max: number): Promise<Uint8Array | null> {
    const have = this.#end - this.#pos;
    if (have > 0) {
      const n = Math.min(have, max);
      const piece = this.#buf.subarray(this.#pos, this.#pos + n);
      this.#pos += n;
      return piece;
    }
    if (this.#pendingClaimed !== undefined) {
      if (!await this.#fill()) return null;
      return this.#take(max);
    }
    if (this.beforeWait !== undefined) await this.beforeWait();
    const piece = this.#piece ??= new Uint8Array(PIECE);
    const n = await this.conn.read(max < PIECE ? piece.subarray(0, max) : piece);
    if (n === null) return null;
    return piece.subarray(0, n);
  }

  /** One CRLF-ended line of the buffer (without CRLF), reading more as needed. */
  async #line(): Promise<string> {
    for (;;) {
      for (let i = this.#pos; i + 1 < this.#end; i++) {
        if (this.#buf[i] === CR) {
          if (this.#buf[i + 1] !== LF) {
            throw new UpstreamProtocolError("bad_chunk", "a bare CR in a chunked body");
          }
          const s = latin1(this.#buf, this.#pos, i);
          this.#pos = i + 2;
          return s;
        }
        if (this.#buf[i] === LF) throw new UpstreamProtocolError("bad_chunk", "a bare LF in a chunked body");
      }
      if (this.#end - this.#pos > MAX_LINE) {
        throw new UpstreamProtocolError("bad_chunk", "a chunk-size or trailer line over 16 KiB");
      }
      if (!await this.#fill()) {
        this.dead = true;
        throw new UpstreamProtocolError("closed_in_body", "the upstream closed inside its chunked body");
      }
    }
  }

  async #chunked(): Promise<Uint8Array | null> {
    for (;;) {
      switch (this.#chunkState) {
        case CH_SIZE: {
          const line = await this.#line();
          const semi = line.indexOf(";");
          const hex = (semi < 0 ? line : line.slice(0, semi)).trimEnd();
          if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) {
            throw new UpstreamProtocolError(
              "bad_chunk",
              `a bad chunk size ${JSON.stringify(hex.slice(0, 20))}`,
            );
          }
          this.#left = parseInt(hex, 16);
          this.#chunkState = this.#left === 0 ? CH_TRAILERS : CH_DATA;
          break;
        }
        case CH_DATA: {
          const piece = await this.#take(this.#left);
          if (piece === null) {
            this.dead = true;
            throw new UpstreamProtocolError("closed_in_body", "the upstream closed inside a chunk");
          }
          this.#left -= piece.length;
          if (this.#left === 0) this.#chunkState = CH_DATA_END;
          return piece;
        }
        case CH_DATA_END: {
          const line = await this.#line();
          if (line !== "") throw new UpstreamProtocolError("bad_chunk", "a chunk longer than its size");
          this.#chunkState = CH_SIZE;
          break;
        }
        case CH_TRAILERS: {
          let total = 0;
          for (;;) {
            const line = await this.#line();
            if (line === "") break;
            total += line.length;
            if (total > MAX_LINE) {
              throw new UpstreamProtocolError("bad_chunk", "a trailer section over 16 KiB");
            }
            const colon = line.indexOf(":");
            const name = colon < 0 ? "" : line.slice(0, colon).toLowerCase();
            if (!isFieldName(name)) throw new UpstreamProtocolError("bad_chunk", "a bad trailer line");
            const value = line.slice(colon + 1).trim();
            if (!isFieldValue(value)) {
              throw new UpstreamProtocolError("bad_chunk", `a control byte in trailer ${name}`);
            }
            this.trailers.push([name, value]);
          }
          this.#chunkState = CH_DONE;
          return null;
        }
        default:
          return null;
      }
    }
  }
}
