/**
 * The `Request` a fetch app receives, built as `Deno.serve` builds its own: a real `Request`
 * (Deno's class, so `instanceof Request` holds and every member is Deno's own code) whose inner
 * record — method, URL, header list, body, cancellation — is ferry's request, read on first use.
 * Nothing is parsed, copied or allocated for what the app never reads: `new Request(url, init)`
 * costs about 4 µs a request here, this about 0.1 µs, and reading `url`, `method` and one header
 * about 0.3 µs more.
 *
 * Deno's `Request` keeps its state under symbols; the ones needed (its brand, its inner request,
 * its headers guard) and the class of a body are found once, from a probe `Request`, and the
 * result is checked before use. When anything does not match (another Deno), every request is
 * built with the public constructor instead ({@linkcode plainRequest}): slower, same behaviour.
 *
 * @module
 */

import type { ServerRequest } from "../http/request.ts";
import { requestUrl } from "./request_url.ts";

/** Methods whose requests carry no body in a `Request`. */
const BODYLESS = new Set(["GET", "HEAD"]);

/** The methods `new Request` writes in upper case whatever case they come in (Fetch §5.1 "normalize"). */
const NORMALIZED: Record<string, string> = { DELETE: "DELETE", GET: "GET", HEAD: "HEAD", OPTIONS: "OPTIONS" };
NORMALIZED.POST = "POST";
NORMALIZED.PUT = "PUT";

/** The method as a `Request` shows it: the six standard ones upper-cased (Fetch's "normalize"). */
function normalizeMethod(method: string): string {
  if (method in NORMALIZED) return method;
  return NORMALIZED[method.toUpperCase()] ?? method;
}

/** Whether the `Request` has a body: not a GET or HEAD, and a length or chunked framing. */
function carriesBody(req: ServerRequest): boolean {
  return !BODYLESS.has(req.method.toUpperCase()) && (req.contentLength > 0 || req.chunked);
}

/** The header list as Deno's `Headers` keep one: `[name, value]` pairs, lower-case names. */
function headerPairs(req: ServerRequest): Array<[string, string]> {
  const { names, values } = req.headers;
  const list: Array<[string, string]> = new Array(names.length);
  for (let i = 0; i < names.length; i++) list[i] = [names[i], values[i]];
  return list;
}

/** What ferry needs of Deno's `Request` internals. */
interface Internals {
  /** `webidl.brand`: the symbol, and its own value, that marks a genuine instance. */
  brand: symbol;
  /** The symbol of the inner request record. */
  inner: symbol;
  /** The symbol of the headers guard. */
  guard: symbol;
  /** Deno's body class: `new InnerBody(stream)`. */
  InnerBody: new (stream: ReadableStream<Uint8Array>) => unknown;
}

/**
 * The inner request record of Deno's `Request`, over a ferry request: the same fields and
 * methods as the record `new Request` makes, each computed from `req` on first use.
 */
class InnerRequest {
  methodInner: string;
  headerListInner: Array<[string, string]> | null = null;
  redirectMode = "follow";
  redirectCount = 0;
  #urlList: Array<() => string> | undefined;
  #urlListProcessed: string[] | undefined;
  #url: string | undefined;
  clientRid = null;
  blobUrlEntry = null;
  readonly #req: ServerRequest;
  /** The ferry request (for `Deno.upgradeWebSocket`). */
  readonly serverRequest: ServerRequest;
  readonly #InnerBody: Internals["InnerBody"];
  #body: unknown = undefined;

  constructor(req: ServerRequest, InnerBody: Internals["InnerBody"]) {
    this.methodInner = normalizeMethod(req.method);
    this.#req = req;
    this.serverRequest = req;
    this.#InnerBody = InnerBody;
  }

  /** The URL list (redirects would add to a copy's): made when Deno first looks at it. */
  get urlList(): Array<() => string> {
    return this.#urlList ??= [() => this.url()];
  }
  set urlList(value: Array<() => string>) {
    this.#urlList = value;
  }

  get urlListProcessed(): string[] {
    return this.#urlListProcessed ??= [this.url()];
  }
  set urlListProcessed(value: string[]) {
    this.#urlListProcessed = value;
  }

  get method(): string {
    return this.methodInner;
  }
  set method(value: string) {
    this.methodInner = value;
  }

  get headerList(): Array<[string, string]> {
    return this.headerListInner ??= headerPairs(this.#req);
  }
  set headerList(value: Array<[string, string]>) {
    this.headerListInner = value;
  }

  /** The body: made (a stream over ferry's body) when first asked for; null when there is none. */
  get body(): unknown {
    if (this.#body === undefined) {
      this.#body = carriesBody(this.#req) ? new this.#InnerBody(this.#req.body.stream()) : null;
    }
    return this.#body;
  }
  set body(value: unknown) {
    this.#body = value;
  }

  url(): string {
    return this.#url ??= requestUrl(this.#req);
  }

  currentUrl(): string {
    if (this.#urlList === undefined) return this.url();
    const last = this.#urlList.length - 1;
    return this.urlListProcessed[last] ??= this.#urlList[last]();
  }

  /** Deno asks this when the app first reads `request.signal`: `abort` runs when the client has gone. */
  onCancel(abort: () => void): void {
    const signal = this.#req.signal;
    if (signal.aborted) abort();
    else signal.addEventListener("abort", abort, { once: true });
  }
}

/** Deno's `Request` internals, when they are the shape this file expects. */
function findInternals(): Internals | undefined {
  try {
    const probe = new Request("http://probe.invalid/", { method: "POST", body: new ReadableStream() });
    const bySymbol = new Map<string | undefined, symbol>();
    for (const s of Object.getOwnPropertySymbols(probe)) bySymbol.set(s.description, s);
    const brand = bySymbol.get("[[webidl.brand]]");
    const inner = bySymbol.get("request");
    const guard = bySymbol.get("headers guard");
    if (brand === undefined || inner === undefined || guard === undefined) return undefined;
    const record = (probe as unknown as Record<symbol, { body?: { constructor?: unknown } }>)[inner];
    const InnerBody = record?.body?.constructor;
    if (typeof InnerBody !== "function") return undefined;
    return { brand, inner, guard, InnerBody: InnerBody as Internals["InnerBody"] };
  } catch {
    return undefined;
  }
}

/** A `Request` on Deno's internals: a branded instance whose inner record is an {@linkcode InnerRequest}. */
function internalRequest(req: ServerRequest, k: Internals): Request {
  const request = new (Request as unknown as new (brand: symbol) => Request)(k.brand);
  const slots = request as unknown as Record<symbol, unknown>;
  slots[k.inner] = new InnerRequest(req, k.InnerBody);
  slots[k.guard] = "request";
  return request;
}

/**
 * A `Request` whose `signal` is the ferry request's: aborted when the client goes away while the
 * app is silent (a long poll). The watch begins only when the app reads `signal`.
 */
class SignalRequest extends Request {
  #req: ServerRequest;

  constructor(req: ServerRequest, init: RequestInit) {
    super(requestUrl(req), init);
    this.#req = req;
  }

  /** The ferry request (for `Deno.upgradeWebSocket`). */
  get serverRequest(): ServerRequest {
    return this.#req;
  }

  /** Aborted when the client has gone (see `ServerRequest.signal`). */
  override get signal(): AbortSignal {
    return this.#req.signal;
  }
}

/**
 * The request built with the public `Request` constructor: the whole URL parsed, the headers
 * copied, the body stream made, at once. Used when Deno's internals are not the expected shape.
 *
 * @example
 * ```ts ignore
 * const request = plainRequest(req);
 * ```
 */
export function plainRequest(req: ServerRequest): Request {
  const init: RequestInit & { duplex?: "half" } = { method: req.method, headers: req.headers.toHeaders() };
  if (carriesBody(req)) {
    init.body = req.body.stream();
    init.duplex = "half";
  }
  return new SignalRequest(req, init);
}

/** Whether this Deno's internals fit, checked on a request made with them (see the module doc). */
function usable(k: Internals | undefined): Internals | undefined {
  if (k === undefined) return undefined;
  try {
    const fields = {
      method: "get",
      target: "/check?a=1",
      form: "origin",
      path: "/check",
      query: "a=1",
      headers: { names: ["host", "x-check"], values: ["check.invalid", "1"] },
      host: "check.invalid",
      contentLength: -1,
      chunked: false,
      scheme: "http",
      url: "http://check.invalid/check?a=1",
      signal: new AbortController().signal,
    } as unknown as ServerRequest;
    const r = internalRequest(fields, k);
    const copy = r.clone();
    const ok = r instanceof Request && r.url === "http://check.invalid/check?a=1" && r.method === "GET" &&
      r.headers.get("x-check") === "1" && r.body === null && !r.bodyUsed && copy.url === r.url &&
      copy.headers.get("host") === "check.invalid";
    return ok ? k : undefined;
  } catch {
    return undefined;
  }
}

const internals = usable(findInternals());

/** Whether requests are built on Deno's internals here (else with {@linkcode plainRequest}). */
export const lazyRequestsAvailable: boolean = internals !== undefined;

/**
 * The WHATWG `Request` for a ferry request: a genuine `Request` whose URL, headers and body are
 * made from `req` when the app first reads them, and whose `signal` aborts when the client goes.
 *
 * @example
 * ```ts ignore
 * const response = await app.fetch(lazyRequest(req), info);
 * ```
 */
export function lazyRequest(req: ServerRequest): Request {
  return internals !== undefined ? internalRequest(req, internals) : plainRequest(req);
}

/**
 * The ferry request a `Request` from {@linkcode lazyRequest} was made for; undefined for any
 * other `Request` (one the app made, a clone).
 *
 * @example
 * ```ts ignore
 * serverRequestOf(lazyRequest(req)) === req; // true
 * ```
 */
export function serverRequestOf(request: Request): ServerRequest | undefined {
  if (request instanceof SignalRequest) return request.serverRequest;
  if (internals === undefined) return undefined;
  const inner = (request as unknown as Record<symbol, unknown>)[internals.inner];
  return inner instanceof InnerRequest ? inner.serverRequest : undefined;
}
