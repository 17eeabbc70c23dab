/**
 * The response side of the exchange contract: the {@linkcode ResponseWriter} every handler
 * answers through, whatever the protocol. HTTP/1.1 implements it with a status line, header
 * lines and a fixed, chunked or close-delimited body (`src/http1/writer.ts`); HTTP/2 with a
 * HEADERS frame and DATA frames; the in-memory harness by keeping what was written.
 *
 * What only some protocols can do is a capability asked for by name
 * ({@linkcode ResponseWriter.capability}), `undefined` where it is not offered, so a writer never
 * fakes another protocol's feature: `switch` (101 Switching Protocols, HTTP/1.1 only), `close`
 * (end the connection after this response, HTTP/1.1's `Connection: close`) and `trailers` (trailer
 * fields after the body, for a client that takes them).
 *
 * @module
 */

import type { Tunnel } from "./tunnel.ts";

/** Response header fields as name/value pairs, in the order they are sent. */
export type ResponseHeaders = ReadonlyArray<readonly [string, string]> | PreparedHeaders;

/**
 * Fields ferry manages itself and a handler may not prepare: framing, connection management,
 * `Date`, `Server` and the request id.
 */
const MANAGED = new Set([
  "content-length",
  "transfer-encoding",
  "connection",
  "date",
  "server",
  "x-request-id",
]);

/** tchar of RFC 9110 §5.6.2, as a string of the allowed non-alphanumeric characters. */
const TOKEN_PUNCT = "!#$%&'*+-.^_`|~";

/** Whether `name` is a field name (a token, RFC 9110 §5.1). */
export function isFieldName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (!alnum && !TOKEN_PUNCT.includes(name[i])) return false;
  }
  return true;
}

/** Whether `value` is a field value: no control character but HTAB, nothing above 0xFF (RFC 9110 §5.5). */
export function isFieldValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) return false;
  }
  return true;
}

/**
 * Header fields validated once, for responses that repeat them (a static file's Content-Type,
 * ETag, Last-Modified, …). They may not include the fields ferry manages: Content-Length,
 * Transfer-Encoding, Connection, Date, Server, X-Request-Id. A protocol's writer encodes them
 * once, on first use, and keeps its encoding in {@linkcode PreparedHeaders.encoded}.
 *
 * @example
 * ```ts
 * import { PreparedHeaders } from "./writer.ts";
 * const h = new PreparedHeaders([["Content-Type", "text/plain"]]);
 * console.log(h.pairs.length); // 1
 * ```
 */
export class PreparedHeaders {
  /** The fields, as given. */
  readonly pairs: ReadonlyArray<readonly [string, string]>;
  /** Each protocol's encoding of the fields, by protocol (`"HTTP/1.1"`: `name: value\r\n` lines). */
  readonly encoded: Map<string, Uint8Array> = new Map();

  /** Validates `pairs`; throws TypeError for a managed or invalid field. */
  constructor(pairs: ReadonlyArray<readonly [string, string]>) {
    for (const [name, value] of pairs) {
      if (MANAGED.has(name.toLowerCase())) {
        throw new TypeError(`${name} is managed by ferry and cannot be prepared`);
      }
      if (!isFieldName(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
      if (!isFieldValue(value)) throw new TypeError(`invalid character in the value of header ${name}`);
    }
    this.pairs = pairs;
  }
}

/**
 * `101 Switching Protocols` (RFC 9110 §7.8): answers the upgrade to `protocol` with `headers`
 * (Connection and Upgrade are the writer's) and whatever `more` adds once the connection has
 * switched (it sees the tunnel, and so the server's options), writes it out, and hands the
 * connection over. The response is finished; the connection closes when the handler returns.
 */
export type SwitchProtocols = (
  protocol: string,
  headers?: Array<[string, string]>,
  more?: (tunnel: Tunnel) => Array<[string, string]>,
) => Promise<Tunnel>;

/**
 * Ends the response with trailer fields after its body (RFC 9110 §6.5), in place of
 * {@linkcode ResponseWriter.end}. Fields a trailer may not carry (framing, routing, control data,
 * content metadata: see {@linkcode trailerFields}) are dropped; an invalid name or value throws.
 */
export type SendTrailers = (fields: ReadonlyArray<readonly [string, string]>) => Promise<void>;

/** Fields that may not travel in a trailer section (RFC 9110 §6.5.1), and ferry's own. */
const NOT_TRAILERS = new Set([
  ...MANAGED,
  "host",
  "te",
  "trailer",
  "keep-alive",
  "upgrade",
  "proxy-connection",
  "content-type",
  "content-encoding",
  "content-range",
  "cache-control",
  "expires",
  "age",
  "location",
  "retry-after",
  "vary",
  "set-cookie",
  "www-authenticate",
  "authorization",
  "proxy-authenticate",
]);

/**
 * The trailer fields a writer sends: names lower-cased, those a trailer may not carry dropped,
 * pseudo-fields refused.
 *
 * @example
 * ```ts
 * import { trailerFields } from "./writer.ts";
 * console.log(trailerFields([["Grpc-Status", "0"], ["Content-Length", "1"]])); // [["grpc-status", "0"]]
 * ```
 */
export function trailerFields(fields: ReadonlyArray<readonly [string, string]>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [rawName, value] of fields) {
    if (!isFieldName(rawName)) throw new TypeError(`invalid trailer name ${JSON.stringify(rawName)}`);
    if (!isFieldValue(value)) throw new TypeError(`invalid character in the value of trailer ${rawName}`);
    const name = rawName.toLowerCase();
    if (!NOT_TRAILERS.has(name)) out.push([name, value]);
  }
  return out;
}

/**
 * Whether the request's `TE` says the client takes trailers (RFC 9110 §10.1.4): a response
 * sends them only then, as ASGI asks.
 */
export function acceptsTrailers(te: string | undefined): boolean {
  if (te === undefined) return false;
  for (const part of te.split(",")) {
    const semi = part.indexOf(";");
    if ((semi < 0 ? part : part.slice(0, semi)).trim().toLowerCase() === "trailers") return true;
  }
  return false;
}

/** What a writer may offer beyond the common contract, by name. */
export interface Capabilities {
  /** 101 Switching Protocols: HTTP/1.1 only (HTTP/2 has no upgrade). */
  switch: SwitchProtocols;
  /**
   * Ends the connection after this response (HTTP/1.1 `Connection: close`); call it before the
   * head is written for the header to say so.
   */
  close: () => void;
  /**
   * Ends the response with trailer fields: offered when the client said `TE: trailers`. HTTP/1.1
   * sends them in a chunked body's trailer section (a fixed-length body ends without them);
   * HTTP/2 as a last HEADERS frame with END_STREAM.
   */
  trailers: SendTrailers;
}

/**
 * Writes one response. Either {@linkcode ResponseWriter.send} it whole, or
 * {@linkcode ResponseWriter.writeHead}, {@linkcode ResponseWriter.write} pieces (await each for
 * back-pressure) and {@linkcode ResponseWriter.end}. The writer frames the body from what is
 * known (a length given as `Content-Length` or a whole body, else streamed), and adds `Date`,
 * `Server` and `X-Request-Id`.
 *
 * @example
 * ```ts ignore
 * const hello: Handler = (req, res) => res.send(200, [["content-type", "text/plain"]], "hello\n");
 * ```
 */
export interface ResponseWriter {
  /** The status sent (0 until the head is written). */
  readonly status: number;
  /** Whether the head has been written. */
  readonly headersSent: boolean;
  /** Whether the response is complete (or aborted). */
  readonly finished: boolean;
  /** Body bytes accepted from the handler (for HEAD, those that would have been sent). */
  readonly bodyBytes: number;
  /** Body bytes the declared Content-Length still allows; -1 when the length was not declared. */
  readonly remainingLength: number;

  /**
   * Sends a complete response. `body` may be a string (sent as UTF-8) or bytes; its length
   * becomes the Content-Length.
   */
  send(status: number, headers?: ResponseHeaders, body?: Uint8Array | string): Promise<void>;
  /**
   * Writes the status and headers (they leave with the first flush). Pass `contentLength` (or a
   * `Content-Length` header) when the body length is known.
   */
  writeHead(status: number, headers?: ResponseHeaders, contentLength?: number): void;
  /**
   * Sends a piece of the body; writes `writeHead(200)` first if no head was written. Resolves
   * when the piece is buffered or, past the writer's buffer, sent.
   */
  write(chunk: Uint8Array | string): Promise<void>;
  /** Sends buffered output now (for streaming responses). */
  flush(): Promise<void>;
  /** Finishes the response, optionally with a last piece of body. */
  end(chunk?: Uint8Array | string): Promise<void>;
  /** Ends a broken response: the client sees it cut short (no final chunk, a reset stream). */
  abort(): void;
  /** Whether a response with `status` to this request would carry no body (HEAD, 204, 304). */
  discardsBodyFor(status: number): boolean;
  /** The capability `name` when this writer offers it, else `undefined`. */
  capability<K extends keyof Capabilities>(name: K): Capabilities[K] | undefined;
}
