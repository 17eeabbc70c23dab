/**
 * The request as every handler sees it, whatever the protocol: the head's fields, the body
 * stream, where it came from, and the protocol version as a string (`"HTTP/1.1"`, `"HTTP/2"`).
 * A protocol builds one from its own head (`src/http1/` from the parsed request line and fields,
 * `src/http2/` from a HEADERS block); the in-memory harness builds one from plain values.
 *
 * @module
 */

import type { Body } from "./body.ts";
import type { HeaderList } from "./headers.ts";
import { hostPort, stripPort } from "./authority.ts";

/** The forms of request-target of RFC 9112 §3.2 (HTTP/2's `:path` is origin or asterisk form). */
export type TargetForm = "origin" | "absolute" | "authority" | "asterisk";

/** The protocol-neutral fields of a request head, as a protocol's parser produced them. */
export interface RequestFields {
  /** The method, case kept (methods are case-sensitive). */
  readonly method: string;
  /** The request-target exactly as received (HTTP/2: `:path`, or `:authority` for CONNECT). */
  readonly target: string;
  /** Which form the target took. */
  readonly form: TargetForm;
  /** The raw (still percent-encoded) path. */
  readonly path: string;
  /** The raw query without `?`; empty when there is none. */
  readonly query: string;
  /** The header fields, names lower-cased. */
  readonly headers: HeaderList;
  /** The authority: the absolute-form target's or `:authority`, else the Host header's; `""` when absent. */
  readonly host: string;
  /** Declared Content-Length, or -1 when the request has none. */
  readonly contentLength: number;
  /**
   * Whether the body's length is unknown until it ends (HTTP/1.1 chunked; an HTTP/2 request
   * without Content-Length whose stream is still open).
   */
  readonly chunked: boolean;
}

/** Facts about the connection a request arrived on. */
export interface ConnectionInfo {
  /** Connection id, unique within the process. */
  readonly id: number;
  /** Client address. */
  readonly remoteAddr: string;
  /** Client port. */
  readonly remotePort: number;
  /** Server address the client connected to. */
  readonly localAddr: string;
  /** Server port the client connected to. */
  readonly localPort: number;
  /** Whether the connection is TLS. */
  readonly secure: boolean;
}

/** The client as trusted proxies describe it (see `src/proxy/forwarded.ts`). */
export interface ClientView {
  /** The client's address. */
  addr: string;
  /** The client's port (0 when no proxy said). */
  port: number;
  /** The scheme the client used, when a proxy said. */
  proto: "http" | "https" | undefined;
  /** The Host the client sent, when a proxy said. */
  host: string | undefined;
}

/**
 * How a protocol tells that the client of a request has gone (HTTP/1.1: the connection reached
 * its end or was reset while the handler ran; HTTP/2: RST_STREAM, or the connection closed).
 * Asked once, only when a handler looks at {@linkcode ServerRequest.signal}: a request nobody
 * asks about costs nothing.
 */
export interface ClientPresence {
  /**
   * Calls `gone` once when the client has gone (at once if it already has). Watching starts
   * when the request body has been read to its end; a body read that fails says so itself.
   */
  watchGone(gone: () => void): void;
}

/**
 * One HTTP request. Header names are lower-case; `path` and `query` are raw (still
 * percent-encoded): each module decodes what it uses, by its own rules.
 *
 * @example
 * ```ts ignore
 * const handler = async (req: ServerRequest, res: ResponseWriter) => {
 *   const name = req.headers.get("x-name") ?? "world";
 *   await res.send(200, [["content-type", "text/plain"]], `hello ${name}\n`);
 * };
 * ```
 */
export class ServerRequest {
  /** Method, case kept. */
  readonly method: string;
  /** The request-target as received. */
  readonly target: string;
  /** Which form the target took. */
  readonly form: TargetForm;
  /** Raw path. */
  readonly path: string;
  /** Raw query without `?` (empty when none). */
  readonly query: string;
  /** The protocol version: `"HTTP/1.0"`, `"HTTP/1.1"` or `"HTTP/2"`. */
  readonly protocol: string;
  /** Header fields. */
  readonly headers: HeaderList;
  /** The authority the request is for (absolute-form target, else Host); may be empty. */
  readonly host: string;
  /** The body stream (empty when the request has none). */
  readonly body: Body;
  /** The connection. */
  readonly conn: ConnectionInfo;
  /** Request id, sent back as X-Request-Id. */
  readonly id: string;
  /** When the head was parsed (`performance.now()`). */
  readonly start: number;
  /** Declared Content-Length, or -1. */
  readonly contentLength: number;
  /** Whether the body is chunked. */
  readonly chunked: boolean;
  /** The client's address: the peer's, or what a trusted proxy says. */
  readonly clientAddr: string;
  /** The client's port: the peer's, or what a trusted proxy says (0 when it says none). */
  readonly clientPort: number;
  /** Whether the client's own connection is TLS: this one's, or what a trusted proxy says. */
  readonly secure: boolean;
  /** The protocol's watch for the client going away (none in the in-memory harness). */
  readonly presence: ClientPresence | undefined;
  /**
   * Set by the reverse proxy once an upstream answered: the target and the milliseconds to its
   * response head, for the access log.
   */
  upstream: { target: string; ms: number } | undefined = undefined;
  #gone: AbortController | undefined;

  /**
   * Builds the request from a head's fields and its protocol version, with what trusted proxies
   * say of the client.
   */
  constructor(
    head: RequestFields,
    protocol: string,
    body: Body,
    conn: ConnectionInfo,
    id: string,
    start: number,
    client?: ClientView,
    presence?: ClientPresence,
  ) {
    this.method = head.method;
    this.target = head.target;
    this.form = head.form;
    this.path = head.path;
    this.query = head.query;
    this.protocol = protocol;
    this.headers = head.headers;
    this.host = client?.host ?? head.host;
    this.body = body;
    this.conn = conn;
    this.id = id;
    this.start = start;
    this.contentLength = head.contentLength;
    this.chunked = head.chunked;
    this.clientAddr = client?.addr ?? conn.remoteAddr;
    this.clientPort = client !== undefined ? client.port : conn.remotePort;
    this.secure = client?.proto !== undefined ? client.proto === "https" : conn.secure;
    this.presence = presence;
  }

  /**
   * Aborted when the client goes away while the handler runs (a long poll whose client left):
   * the connection ended or was reset (HTTP/1.1, once the body has been read) or the stream was
   * reset (HTTP/2). Created on first use; the protocol starts watching only then.
   *
   * @example
   * ```ts ignore
   * req.signal.addEventListener("abort", () => clearTimeout(poll));
   * ```
   */
  get signal(): AbortSignal {
    let ac = this.#gone;
    if (ac === undefined) {
      const made = ac = this.#gone = new AbortController();
      this.presence?.watchGone(() => made.abort());
    }
    return ac.signal;
  }

  /** `"https"` when the client's connection is TLS (see {@linkcode ServerRequest.secure}), else `"http"`. */
  get scheme(): "http" | "https" {
    return this.secure ? "https" : "http";
  }

  /**
   * SERVER_NAME and SERVER_PORT (CGI, PEP 3333): the Host's name and port (the scheme's default
   * port when it has none), or the server's own address when the client sent no Host.
   */
  serverAddress(): { name: string; port: string } {
    if (this.host === "") return { name: this.conn.localAddr, port: String(this.conn.localPort) };
    const name = stripPort(this.host);
    const port = this.host.slice(name.length + 1);
    return { name, port: port !== "" ? port : (this.secure ? "443" : "80") };
  }

  /**
   * The absolute URL of the request (scheme, authority, path and query), with the server's own
   * address standing in when the client sent no Host.
   */
  get url(): string {
    const host = this.host !== "" ? this.host : hostPort(this.conn.localAddr, this.conn.localPort);
    const path = this.form === "asterisk" ? "/" : this.path;
    return `${this.scheme}://${host}${path}${this.query !== "" ? "?" + this.query : ""}`;
  }
}
