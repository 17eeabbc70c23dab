/**
 * Response serialisation (RFC 9112 §4, §6, §7; RFC 9110 §6.4.1, §8.6): the status line, the
 * header section, and a body that is fixed-length, chunked or close-delimited, chosen
 * automatically. Status lines are pre-encoded, the `Date` + `Server` block is re-encoded once a
 * second, and header fields are validated while they are encoded, so a CR or LF in a value can
 * never split a response.
 *
 * @module
 */

import type { Tunnel } from "../http/tunnel.ts";
import { STATUS_TEXT } from "../http/status.ts";
import {
  type Capabilities,
  PreparedHeaders,
  type ResponseHeaders,
  type ResponseWriter,
  type SendTrailers,
  type SwitchProtocols,
  trailerFields,
} from "../http/writer.ts";
import {
  H_CONNECTION,
  H_CONTENT_LENGTH,
  H_DATE,
  H_REQUEST_ID,
  H_SERVER,
  H_TRANSFER_ENCODING,
  knownField,
  parseLength,
  rememberField,
  specialHeader,
  writeField,
} from "./fields.ts";
import { Output } from "../net/output.ts";
import { commonBlock, dateString, refreshDate } from "../http/date.ts";

export { type ByteSink, Output, SETTLED } from "../net/output.ts";
export { httpDate } from "../http/date.ts";

/** The protocol key of HTTP/1.1's encoding in {@linkcode PreparedHeaders.encoded}. */
const H1 = "HTTP/1.1";

/** The `name: value\r\n` lines of prepared fields, encoded on first use and kept with them. */
function preparedBytes(headers: PreparedHeaders): Uint8Array {
  let bytes = headers.encoded.get(H1);
  if (bytes === undefined) {
    const out = new Output({ write: () => Promise.resolve(0) });
    for (const [name, value] of headers.pairs) writeField(out, name, value);
    bytes = out.reserve(0).slice(0, out.length);
    headers.encoded.set(H1, bytes);
  }
  return bytes;
}

/** Bodies (or chunks) at least this large are written straight from the caller's array. */
const DIRECT_WRITE_BYTES = 16 * 1024;
/** Buffered output beyond this is flushed by `write()`, which gives back-pressure. */
const FLUSH_THRESHOLD = 16 * 1024;

/** Encoded status lines by code (200–999). */
const statusLines: Array<Uint8Array | undefined> = [];

/** `HTTP/1.1 <code> <reason>\r\n`, encoded once per status code. */
function statusLine(status: number): Uint8Array {
  let line = statusLines[status];
  if (line === undefined) {
    line = new TextEncoder().encode(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? ""}\r\n`);
    statusLines[status] = line;
  }
  return line;
}

/** `HTTP/1.1 100 Continue` and its empty line (RFC 9110 §15.2.1). */
export const CONTINUE_BYTES: Uint8Array = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");

// --- Response writer ---------------------------------------------------------------------------

/** What a {@linkcode ResponseWriter} needs from its connection. */
export interface ResponseSink {
  /** The connection's output. */
  readonly out: Output;
  /** Whether the connection will close after this response (checked when the head is written). */
  mustClose(): boolean;
  /** Called when the response is complete; flushes unless pipelined requests are waiting. */
  endOfResponse(): Promise<void>;
  /**
   * Hands the connection to another protocol once the 101 head is buffered (a connection that
   * cannot switch, or whose request has a body, throws).
   */
  tunnel?(): Tunnel;
}

/** The facts of one exchange a response is written for, given when its writer is made. */
export interface ExchangeFacts {
  /** Whether the request was HEAD (the body is not sent). */
  readonly head: boolean;
  /** The request's HTTP minor version (1 when there was no request line). */
  readonly versionMinor: number;
  /** The request id, sent as X-Request-Id (already validated: safe to write as it is). */
  readonly requestId: string | undefined;
  /** Pre-encoded header lines added to every response on this connection (HSTS on TLS). */
  readonly extraHead: Uint8Array | undefined;
  /** Whether the request's `TE` takes trailers (asked only when a handler wants to send some). */
  acceptsTrailers?(): boolean;
}

/** The facts of a response to no request (a refused head): HTTP/1.1, not HEAD, no id. */
export const NO_REQUEST: ExchangeFacts = Object.freeze({
  head: false,
  versionMinor: 1,
  requestId: undefined,
  extraHead: undefined,
});

const MODE_NONE = 0;
const MODE_FIXED = 1;
const MODE_CHUNKED = 2;
const MODE_CLOSE = 3; // close-delimited (HTTP/1.0 without a length)
const MODE_DISCARD = 4; // HEAD, 204, 304: nothing is sent

const CRLF = new Uint8Array([0x0d, 0x0a]);
const CONTENT_LENGTH_PREFIX = new TextEncoder().encode("Content-Length: ");
const REQUEST_ID_PREFIX = new TextEncoder().encode("X-Request-Id: ");
const LAST_CHUNK = new TextEncoder().encode("0\r\n\r\n");
const CRLF_CRLF = new TextEncoder().encode("\r\n\r\n");
const END_CLOSE = new TextEncoder().encode("Connection: close\r\n\r\n");
const END_CLOSE_AFTER_LINE = new TextEncoder().encode("\r\nConnection: close\r\n\r\n");
const END_KEEP_ALIVE = new TextEncoder().encode("Connection: keep-alive\r\n\r\n");
const END_KEEP_ALIVE_AFTER_LINE = new TextEncoder().encode("\r\nConnection: keep-alive\r\n\r\n");

let idDateLengthFor: Uint8Array | undefined;
let idDateLengthBytes = new Uint8Array(0);

/** CRLF (the X-Request-Id line's end), the Date + Server block, and `Content-Length: `. */
function idDateLength(): Uint8Array {
  if (idDateLengthFor !== commonBlock) {
    const b = new Uint8Array(2 + commonBlock.length + CONTENT_LENGTH_PREFIX.length);
    b.set(CRLF, 0);
    b.set(commonBlock, 2);
    b.set(CONTENT_LENGTH_PREFIX, 2 + commonBlock.length);
    idDateLengthBytes = b;
    idDateLengthFor = commonBlock;
  }
  return idDateLengthBytes;
}
const encoder = new TextEncoder();

/**
 * Writes one HTTP/1.1 response: the {@linkcode ResponseWriter} of the exchange contract over a
 * connection's output. Framing is chosen from what is known: a length given (as `Content-Length`
 * or a whole body) gives a fixed-length body; otherwise HTTP/1.1 gets chunked and HTTP/1.0 a
 * close-delimited body. `Date`, `Server` and `Connection` are added by ferry. It offers the
 * `switch`, `close` and `trailers` capabilities.
 *
 * @example
 * ```ts ignore
 * await new Http1Writer(sink, facts).send(200, [["content-type", "text/plain"]], "hello\n");
 * ```
 */
export class Http1Writer implements ResponseWriter {
  /** The status sent (0 until the head is written). */
  status = 0;
  /** Whether the head has been written. */
  headersSent = false;
  /** Whether the response is complete. */
  finished = false;
  /** Body bytes accepted from the handler (for HEAD, those that would have been sent). */
  bodyBytes = 0;
  /** Whether the connection closes after this response. */
  closeAfter = false;
  #sink: ResponseSink;
  #facts: ExchangeFacts;
  #mode = MODE_NONE;
  #remaining = 0;
  /** Set through the `close` capability: `Connection: close` on this response. */
  #closeWanted = false;

  /** A writer for one response on `sink`'s connection, for the exchange `facts` describe. */
  constructor(sink: ResponseSink, facts: ExchangeFacts = NO_REQUEST) {
    this.#sink = sink;
    this.#facts = facts;
  }

  /**
   * Sends a complete response. `body` may be a string (sent as UTF-8) or bytes; its length
   * becomes the Content-Length.
   */
  send(status: number, headers: ResponseHeaders = [], body?: Uint8Array | string): Promise<void> {
    // Short ASCII text is copied straight into the output buffer: no encoder call, no copy.
    const text = typeof body === "string" && body.length <= 4096 && isAscii(body) ? body : undefined;
    const bytes = text !== undefined || body === undefined
      ? EMPTY
      : typeof body === "string"
      ? encoder.encode(body)
      : body;
    const n = text !== undefined ? text.length : bytes.length;
    this.#head(status, headers, n);
    const mode = this.#mode;
    if (
      n >= DIRECT_WRITE_BYTES || mode === MODE_CHUNKED || mode === MODE_CLOSE ||
      (mode === MODE_FIXED && n !== this.#remaining)
    ) {
      return this.write(text ?? bytes).then(() => this.end());
    }
    // The common case: head and body leave together in one write (or with the next responses).
    if (mode === MODE_FIXED) {
      if (text !== undefined) this.#sink.out.appendAscii(text);
      else this.#sink.out.append(bytes);
      this.#remaining = 0;
    }
    this.bodyBytes += n;
    this.finished = true;
    return this.#sink.endOfResponse();
  }

  /**
   * Writes the status line and headers to the output buffer (they leave with the first flush).
   * Pass `contentLength` (or a `Content-Length` header) when the body length is known.
   */
  writeHead(status: number, headers: ResponseHeaders = [], contentLength = -1): void {
    this.#head(status, headers, contentLength);
  }

  #head(status: number, headers: ResponseHeaders, contentLength: number): void {
    if (this.headersSent) throw new Error("response head already written");
    if (!Number.isInteger(status) || status < 200 || status > 999) {
      throw new RangeError(`invalid response status ${status}`);
    }
    const sink = this.#sink;
    const out = sink.out;
    const mark = out.length;
    try {
      refreshDate();
      let length = contentLength;
      let lengthFromHeader = false;
      let forceChunked = false;
      let closeRequested = false;
      let hasDateOrServer = 0;
      let hasRequestId = false;
      const facts = this.#facts;
      const extra = facts.extraHead;
      const id = facts.requestId;
      // A head answered before (the same status, kept fields and HSTS lines) starts with one copy
      // of its template, which ends with the X-Request-Id name: only the id, the Date block and
      // the length are added. Kept fields were validated when kept and are compared on every use.
      const template = id === undefined ? undefined : headTemplate(status, headers, extra);
      if (template !== undefined) {
        out.append(template);
        out.appendAscii(id!);
      } else {
        out.append(statusLine(status));
        if (headers instanceof PreparedHeaders) out.append(preparedBytes(headers));
        else {for (let i = 0; i < headers.length; i++) {
            const pair = headers[i];
            const known = knownField(pair);
            if (known !== undefined) {
              out.append(known);
              continue;
            }
            const name = pair[0];
            const value = pair[1];
            const special = specialHeader(name);
            if (special === H_CONTENT_LENGTH) {
              length = parseLength(value);
              lengthFromHeader = true;
              continue; // written below, once
            } else if (special === H_TRANSFER_ENCODING) {
              if (value.trim().toLowerCase() !== "chunked") {
                throw new TypeError("ferry frames responses itself: Transfer-Encoding may only be chunked");
              }
              forceChunked = true;
              continue;
            } else if (special === H_CONNECTION) {
              if (/(^|,)\s*close\s*(,|$)/i.test(value)) closeRequested = true;
              continue; // ferry writes Connection itself
            } else if (special === H_DATE || special === H_SERVER) {
              hasDateOrServer |= special;
            } else if (special === H_REQUEST_ID) {
              hasRequestId = true;
            }
            const at = out.length;
            writeField(out, name, value);
            if (special === 0) rememberField(pair, out, at);
          }}
        if (extra !== undefined) out.append(extra);
        if (id !== undefined && !hasRequestId) {
          out.append(REQUEST_ID_PREFIX);
          out.appendAscii(id);
        }
      }
      const withId = id !== undefined && !hasRequestId;
      // A 304 carries the selected representation's length only when the handler gave it.
      const writesLength = status !== 204 && length >= 0 && !forceChunked &&
        (status !== 304 || lengthFromHeader);
      // The lines ferry adds go out in as few pieces as they can: the id's line end, Date, Server
      // and the Content-Length name are one block (re-made once a second), and the length's line
      // end comes with the head's.
      if (hasDateOrServer === 0) {
        if (withId && writesLength) out.append(idDateLength());
        else {
          if (withId) out.append(CRLF);
          out.append(commonBlock);
          if (writesLength) out.append(CONTENT_LENGTH_PREFIX);
        }
      } else {
        if (withId) out.append(CRLF);
        if ((hasDateOrServer & H_DATE) === 0) writeField(out, "Date", dateString);
        if ((hasDateOrServer & H_SERVER) === 0) writeField(out, "Server", "ferry");
        if (writesLength) out.append(CONTENT_LENGTH_PREFIX);
      }
      if (writesLength) out.appendDecimal(length); // its line ends with the head's end below

      const noBody = facts.head || status === 204 || status === 304;
      let mode: number;
      if (status === 204) {
        mode = MODE_DISCARD;
      } else if (length >= 0 && !forceChunked) {
        mode = noBody ? MODE_DISCARD : MODE_FIXED;
        this.#remaining = length;
      } else if (noBody) {
        mode = MODE_DISCARD;
      } else if (facts.versionMinor >= 1) {
        out.appendAscii("Transfer-Encoding: chunked\r\n");
        mode = MODE_CHUNKED;
      } else {
        mode = MODE_CLOSE;
        closeRequested = true;
      }
      if (closeRequested || this.#closeWanted || sink.mustClose()) {
        this.closeAfter = true;
        out.append(writesLength ? END_CLOSE_AFTER_LINE : END_CLOSE);
      } else if (facts.versionMinor === 0) {
        out.append(writesLength ? END_KEEP_ALIVE_AFTER_LINE : END_KEEP_ALIVE);
      } else {
        out.append(writesLength ? CRLF_CRLF : CRLF);
      }
      this.#mode = mode;
      this.status = status;
      this.headersSent = true;
    } catch (e) {
      out.length = mark; // nothing of a rejected head is sent
      throw e;
    }
  }

  /** Body bytes the declared Content-Length still allows; -1 when the body is not fixed-length. */
  get remainingLength(): number {
    return this.#mode === MODE_FIXED ? this.#remaining : -1;
  }

  /** Whether a response with `status` to this request would carry no body (HEAD, 204, 304). */
  discardsBodyFor(status: number): boolean {
    return this.#facts.head || status === 204 || status === 304;
  }

  /**
   * Sends a piece of the body; writes `writeHead(200)` first if no head was written. Resolves
   * when the piece is buffered or, past 16 KiB of buffered output, written to the socket.
   */
  async write(chunk: Uint8Array | string): Promise<void> {
    if (this.finished) throw new Error("response already finished");
    if (!this.headersSent) this.#head(200, [], -1);
    const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
    const n = bytes.length;
    if (n === 0) return;
    const out = this.#sink.out;
    switch (this.#mode) {
      case MODE_DISCARD:
        this.bodyBytes += n;
        return;
      case MODE_FIXED:
        if (n > this.#remaining) {
          this.closeAfter = true;
          throw new RangeError(`body exceeds the declared Content-Length by ${n - this.#remaining} bytes`);
        }
        this.#remaining -= n;
        break;
      case MODE_CHUNKED:
        out.appendAscii(n.toString(16));
        out.append(CRLF);
        break;
    }
    this.bodyBytes += n;
    if (n >= DIRECT_WRITE_BYTES) await out.writeDirect(bytes);
    else out.append(bytes);
    if (this.#mode === MODE_CHUNKED) out.append(CRLF);
    if (out.pending >= FLUSH_THRESHOLD) await out.flush();
  }

  /** Writes buffered output to the socket now (for streaming responses). */
  async flush(): Promise<void> {
    if (!this.headersSent) throw new Error("nothing to flush before writeHead");
    await this.#sink.out.flush();
  }

  /** Finishes the response, optionally with a last piece of body. */
  async end(chunk?: Uint8Array | string): Promise<void> {
    if (this.finished) return;
    if (chunk !== undefined) await this.write(chunk);
    if (this.finished) return;
    if (!this.headersSent) this.#head(200, [], 0);
    if (this.#mode === MODE_CHUNKED) this.#sink.out.append(LAST_CHUNK);
    else if (this.#mode === MODE_FIXED && this.#remaining > 0) {
      // Shorter than declared: the client will notice only if the connection closes.
      this.closeAfter = true;
    } else if (this.#mode === MODE_CLOSE) this.closeAfter = true;
    this.finished = true;
    await this.#sink.endOfResponse();
  }

  /** The `trailers` capability: the last chunk, then the fields (a body not chunked ends without them). */
  async #endWithTrailers(fields: ReadonlyArray<readonly [string, string]>): Promise<void> {
    if (this.finished) return;
    const list = trailerFields(fields);
    if (!this.headersSent || this.#mode !== MODE_CHUNKED || list.length === 0) return await this.end();
    let section = "0\r\n";
    for (const [name, value] of list) section += `${name}: ${value}\r\n`;
    section += "\r\n";
    const bytes = new Uint8Array(section.length);
    for (let i = 0; i < section.length; i++) bytes[i] = section.charCodeAt(i);
    this.#sink.out.append(bytes);
    this.finished = true;
    await this.#sink.endOfResponse();
  }

  /**
   * Answers `101 Switching Protocols` to `protocol` (RFC 9110 §7.8) with `headers` (Connection
   * and Upgrade are ferry's) and whatever `more` adds once the connection has switched (it sees
   * the tunnel, and so the server's options), writes it out, and hands the connection over: the
   * response is finished, and the connection closes when the handler returns.
   *
   * @example
   * ```ts ignore
   * const tunnel = await res.switchProtocols("websocket", [["Sec-WebSocket-Accept", accept]]);
   * ```
   */
  async switchProtocols(
    protocol: string,
    headers: Array<[string, string]> = [],
    more?: (tunnel: Tunnel) => Array<[string, string]>,
  ): Promise<Tunnel> {
    if (this.headersSent) throw new Error("response head already written");
    const sink = this.#sink;
    if (sink.tunnel === undefined) throw new Error("this connection cannot switch protocols");
    if (this.#facts.versionMinor < 1) throw new Error("HTTP/1.0 cannot switch protocols");
    const out = sink.out;
    const mark = out.length;
    let tunnel: Tunnel;
    try {
      out.append(statusLine(101));
      refreshDate();
      for (const [name, value] of headers) {
        const special = specialHeader(name);
        if (special === H_CONNECTION || special === H_CONTENT_LENGTH || special === H_TRANSFER_ENCODING) {
          continue;
        }
        if (name.toLowerCase() === "upgrade") continue;
        writeField(out, name, value);
      }
      tunnel = sink.tunnel();
    } catch (e) {
      out.length = mark; // nothing of a refused switch is sent
      throw e;
    }
    if (more !== undefined) { for (const [name, value] of more(tunnel)) writeField(out, name, value); }
    writeField(out, "Upgrade", protocol);
    const facts = this.#facts;
    if (facts.extraHead !== undefined) out.append(facts.extraHead);
    if (facts.requestId !== undefined) writeField(out, "X-Request-Id", facts.requestId);
    out.append(commonBlock);
    out.appendAscii("Connection: Upgrade\r\n\r\n");
    this.status = 101;
    this.headersSent = true;
    this.#mode = MODE_DISCARD;
    this.closeAfter = true;
    this.finished = true;
    await out.flush();
    return tunnel;
  }

  /** Ends a broken response: the connection closes without a final chunk. */
  abort(): void {
    this.closeAfter = true;
    this.finished = true;
  }

  /** The writer's capabilities: `switch` when the connection can switch, and `close`. */
  capability<K extends keyof Capabilities>(name: K): Capabilities[K] | undefined {
    if (name === "switch") {
      if (this.#sink.tunnel === undefined) return undefined;
      const switchTo: SwitchProtocols = (protocol, headers, more) =>
        this.switchProtocols(protocol, headers, more);
      return switchTo as Capabilities[K];
    }
    if (name === "trailers") {
      const facts = this.#facts;
      if (facts.versionMinor !== 1 || facts.acceptsTrailers?.() !== true) return undefined;
      const send: SendTrailers = (fields) => this.#endWithTrailers(fields);
      return send as Capabilities[K];
    }
    if (name === "close") {
      const close = () => {
        this.#closeWanted = true;
        if (this.headersSent) this.closeAfter = true;
      };
      return close as Capabilities[K];
    }
    return undefined;
  }
}

const EMPTY = new Uint8Array(0);

/** Whether every code unit of `s` is ASCII. */
function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/*
 * Heads a handler answers again and again (a constant Content-Type, a cached file's prepared
 * fields): the status line, the fields and the connection's HSTS lines, then `X-Request-Id: `,
 * as one byte array per combination, found by the identity of the fields' encoded lines. Only
 * heads of at most two fields, each kept (knownField) or prepared, have one.
 */
const TEMPLATES = 16;
const tplStatus = new Int32Array(TEMPLATES);
const tplFirst: Array<Uint8Array | undefined> = new Array(TEMPLATES).fill(undefined);
const tplSecond: Array<Uint8Array | undefined> = new Array(TEMPLATES).fill(undefined);
const tplExtra: Array<Uint8Array | undefined> = new Array(TEMPLATES).fill(undefined);
const tplBytes: Array<Uint8Array | undefined> = new Array(TEMPLATES).fill(undefined);
let tplNext = 0;

/** The template of a head of `status` with `headers` and `extra`, if the fields allow one. */
function headTemplate(
  status: number,
  headers: ResponseHeaders,
  extra: Uint8Array | undefined,
): Uint8Array | undefined {
  let first: Uint8Array | undefined;
  let second: Uint8Array | undefined;
  if (headers instanceof PreparedHeaders) first = preparedBytes(headers);
  else {
    const n = headers.length;
    if (n > 2) return undefined;
    if (n > 0) {
      first = knownField(headers[0]);
      if (first === undefined) return undefined;
      if (n > 1) {
        second = knownField(headers[1]);
        if (second === undefined) return undefined;
      }
    }
  }
  for (let i = 0; i < TEMPLATES; i++) {
    if (
      tplStatus[i] === status && tplFirst[i] === first && tplSecond[i] === second && tplExtra[i] === extra &&
      tplBytes[i] !== undefined
    ) {
      return tplBytes[i];
    }
  }
  const line = statusLine(status);
  const bytes = new Uint8Array(
    line.length + (first?.length ?? 0) + (second?.length ?? 0) + (extra?.length ?? 0) +
      REQUEST_ID_PREFIX.length,
  );
  let p = 0;
  for (const piece of [line, first, second, extra, REQUEST_ID_PREFIX]) {
    if (piece === undefined) continue;
    bytes.set(piece, p);
    p += piece.length;
  }
  const k = tplNext;
  tplNext = (k + 1) % TEMPLATES;
  tplStatus[k] = status;
  tplFirst[k] = first;
  tplSecond[k] = second;
  tplExtra[k] = extra;
  tplBytes[k] = bytes;
  return bytes;
}
