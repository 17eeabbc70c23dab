/**
 * The in-memory exchange harness (as hono's `app.request()`): builds a {@linkcode ServerRequest}
 * from a target and a few fields, runs a handler or a {@linkcode Router} (the flags' mount table
 * or a config's route table) through the real exchange policy (`exchange.ts`: a handler that
 * throws is answered 500, a refusal its status, as on every protocol) with a writer that keeps
 * what is written, and gives back the status, the header fields, the body and the error log. No
 * socket, no protocol: module logic is tested through the exchange contract alone, and the
 * end-to-end tests keep real sockets.
 *
 * @module
 */

import { concatBytes } from "../bytes.ts";
import { Body } from "./body.ts";
import type { Handler, Router } from "./dispatch.ts";
import { HeaderList } from "./headers.ts";
import { type ConnectionInfo, ServerRequest, type TargetForm } from "./request.ts";
import { type Capabilities, PreparedHeaders, type ResponseHeaders, type ResponseWriter } from "./writer.ts";
import { type ExchangeServer, runExchange } from "./exchange.ts";
import { Logger, type LogSink } from "../log/logger.ts";
import { Stats } from "../stats.ts";

/** What a harness request may say besides its target. */
export interface HarnessRequest {
  /** The method. @default {"GET"} */
  method?: string;
  /** Header fields, in order (names any case). */
  headers?: Record<string, string> | ReadonlyArray<readonly [string, string]>;
  /** The body; a Content-Length is added for it unless `chunked`. */
  body?: string | Uint8Array;
  /** Send the body without a declared length. @default {false} */
  chunked?: boolean;
  /** The client's address. @default {"127.0.0.1"} */
  clientAddr?: string;
  /** Whether the connection is TLS. @default {false} */
  secure?: boolean;
  /** The protocol version. @default {"HTTP/1.1"} */
  protocol?: string;
  /** The server's counters, log and Retry-After; by default fresh counters and an in-memory log. */
  server?: ExchangeServer;
}

/** What the handler answered. */
export interface HarnessResponse {
  /** The status (0 when the handler wrote nothing). */
  readonly status: number;
  /** The header fields as written, in order (ferry's own Date/Server are not added here). */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** The body bytes (none for HEAD, 204 and 304). */
  readonly body: Uint8Array;
  /** Whether the response was complete (not aborted or left open). */
  readonly finished: boolean;
  /** Whether the handler aborted it. */
  readonly aborted: boolean;
  /** The first field called `name` (any case). */
  header(name: string): string | undefined;
  /** The body as UTF-8. */
  text(): string;
  /** What the exchange wrote to the error log (the default in-memory one; "" with `server`). */
  readonly log: string;
}

/** An in-memory log sink. */
class TextSink implements LogSink {
  text = "";
  write(p: Uint8Array): Promise<number> {
    this.text += new TextDecoder().decode(p);
    return Promise.resolve(p.length);
  }
}

/** A body from bytes held in memory, handed out in one piece. */
export class MemoryBody extends Body {
  #bytes: Uint8Array | undefined;

  /** A body of `bytes` (none: an empty body). */
  constructor(bytes?: Uint8Array) {
    super();
    this.#bytes = bytes !== undefined && bytes.length > 0 ? bytes : undefined;
    this.done = this.#bytes === undefined;
  }

  /** The bytes, then the end. */
  protected readChunk(): Promise<Uint8Array | null> {
    const b = this.#bytes;
    this.#bytes = undefined;
    return Promise.resolve(b ?? null);
  }

  /** Bytes still unread. */
  override remainingKnown(): number {
    return this.#bytes?.length ?? 0;
  }
}

const encoder = new TextEncoder();

/** A writer that keeps the response in memory; it offers the `close` capability only. */
export class MemoryWriter implements ResponseWriter {
  /** The status (0 until the head is written). */
  status = 0;
  /** Whether the head has been written. */
  headersSent = false;
  /** Whether the response is complete (or aborted). */
  finished = false;
  /** Body bytes accepted. */
  bodyBytes = 0;
  /** Whether the handler aborted the response. */
  aborted = false;
  /** Whether the handler asked to close the connection. */
  closeWanted = false;
  /** The header fields written. */
  readonly headers: Array<readonly [string, string]> = [];
  /** The body pieces kept. */
  readonly chunks: Uint8Array[] = [];
  #discard = false;
  #declared = -1;
  #headRequest: boolean;

  /** A writer for a request that was HEAD or not. */
  constructor(headRequest = false) {
    this.#headRequest = headRequest;
  }

  /** Body bytes a declared Content-Length still allows; -1 when none was declared. */
  get remainingLength(): number {
    return this.#declared < 0 ? -1 : this.#declared - this.bodyBytes;
  }

  /** Writes the head and the whole body. */
  async send(status: number, headers: ResponseHeaders = [], body?: Uint8Array | string): Promise<void> {
    const bytes = typeof body === "string" ? encoder.encode(body) : body ?? new Uint8Array(0);
    this.writeHead(status, headers, bytes.length);
    await this.end(bytes);
  }

  /** Keeps the status and the fields (a Content-Length among them, or `contentLength`). */
  writeHead(status: number, headers: ResponseHeaders = [], contentLength = -1): void {
    if (this.headersSent) throw new Error("response head already written");
    if (!Number.isInteger(status) || status < 200 || status > 999) {
      throw new RangeError(`invalid response status ${status}`);
    }
    const pairs = headers instanceof PreparedHeaders ? headers.pairs : headers;
    let length = contentLength;
    for (const [name, value] of pairs) {
      if (name.toLowerCase() === "content-length") length = Number(value);
      else this.headers.push([name, value]);
    }
    if (length >= 0 && status !== 204) this.headers.push(["Content-Length", String(length)]);
    this.#declared = length;
    this.status = status;
    this.headersSent = true;
    this.#discard = this.discardsBodyFor(status);
  }

  /** Keeps a piece of the body. */
  write(chunk: Uint8Array | string): Promise<void> {
    if (this.finished) return Promise.reject(new Error("response already finished"));
    if (!this.headersSent) this.writeHead(200);
    const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
    if (this.#declared >= 0 && this.bodyBytes + bytes.length > this.#declared) {
      return Promise.reject(new RangeError("body exceeds the declared Content-Length"));
    }
    this.bodyBytes += bytes.length;
    if (!this.#discard && bytes.length > 0) this.chunks.push(bytes.slice());
    return Promise.resolve();
  }

  /** Nothing to flush in memory. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  /** Finishes the response. */
  async end(chunk?: Uint8Array | string): Promise<void> {
    if (this.finished) return;
    if (chunk !== undefined) await this.write(chunk);
    if (!this.headersSent) this.writeHead(200, [], 0);
    this.finished = true;
  }

  /** Marks the response cut short. */
  abort(): void {
    this.aborted = true;
    this.finished = true;
  }

  /** HEAD, 204 and 304 carry no body. */
  discardsBodyFor(status: number): boolean {
    return this.#headRequest || status === 204 || status === 304;
  }

  /** `close` only: there is no connection to switch. */
  capability<K extends keyof Capabilities>(name: K): Capabilities[K] | undefined {
    if (name === "close") {
      const close: Capabilities["close"] = () => {
        this.closeWanted = true;
      };
      return close as Capabilities[K];
    }
    return undefined;
  }
}

let nextId = 1;

/**
 * The request `target` (origin form, `/path?query`) with `init`, as a handler would see it.
 *
 * @example
 * ```ts
 * import { harnessRequest } from "./harness.ts";
 * const req = harnessRequest("/a?b=1", { headers: { host: "example.com" } });
 * console.log(req.path, req.query, req.url); // "/a" "b=1" "http://example.com/a?b=1"
 * ```
 */
export function harnessRequest(target: string, init: HarnessRequest = {}): ServerRequest {
  const raw = init.headers === undefined
    ? []
    : Array.isArray(init.headers)
    ? init.headers as ReadonlyArray<readonly [string, string]>
    : Object.entries(init.headers);
  const names = raw.map(([n]) => n.toLowerCase());
  const values = raw.map(([, v]) => v);
  const body = typeof init.body === "string" ? encoder.encode(init.body) : init.body;
  const chunked = init.chunked === true && body !== undefined;
  if (body !== undefined && !chunked && !names.includes("content-length")) {
    names.push("content-length");
    values.push(String(body.length));
  }
  const headers = new HeaderList(names, values);
  const q = target.indexOf("?");
  const form: TargetForm = target === "*" ? "asterisk" : "origin";
  const declared = headers.get("content-length");
  const conn: ConnectionInfo = {
    id: 0,
    remoteAddr: init.clientAddr ?? "127.0.0.1",
    remotePort: 40000,
    localAddr: "127.0.0.1",
    localPort: 8080,
    secure: init.secure ?? false,
  };
  return new ServerRequest(
    {
      method: init.method ?? "GET",
      target,
      form,
      path: q === -1 ? target : target.slice(0, q),
      query: q === -1 ? "" : target.slice(q + 1),
      headers,
      host: headers.get("host") ?? "",
      contentLength: declared !== undefined ? Number(declared) : -1,
      chunked,
    },
    init.protocol ?? "HTTP/1.1",
    new MemoryBody(body),
    conn,
    `harness-${nextId++}`,
    performance.now(),
  );
}

/**
 * Runs `target` through `handler` (or the mount a dispatcher routes it to) in memory, through the
 * exchange every protocol runs, and gives back what it answered: a handler's exception is a 500
 * (logged as "handler failed"), a refusal its status, a handler that answers nothing a 500.
 *
 * @example
 * ```ts
 * import { request } from "./harness.ts";
 * const res = await request((_req, res) => res.send(200, [["Content-Type", "text/plain"]], "hi"), "/");
 * console.log(res.status, res.text()); // 200 "hi"
 * ```
 */
export async function request(
  handler: Handler | Router,
  target: string,
  init: HarnessRequest = {},
): Promise<HarnessResponse> {
  const req = harnessRequest(target, init);
  const res = new MemoryWriter(req.method === "HEAD");
  const mount = typeof handler === "function" ? { name: "harness", handler } : handler.route(req.path, req);
  const sink = new TextSink();
  const server = init.server ?? {
    stats: new Stats(),
    log: new Logger("none", sink, sink, "debug"),
    retryAfter: () => "1",
  };
  await runExchange({ ctx: server, req, res, mount: mount.name }, mount.handler);
  const body = concatBytes(res.chunks, res.chunks.reduce((n, p) => n + p.length, 0));
  return {
    status: res.status,
    headers: res.headers,
    body,
    finished: res.finished,
    aborted: res.aborted,
    header: (name) => res.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1],
    text: () => new TextDecoder().decode(body),
    get log() {
      return sink.text;
    },
  };
}
