/**
 * A site's `headers`: response header fields added to every response of its routes, as Caddy's
 * `header` directive sets them (a field the action also wrote is replaced by the site's value).
 * The handler's writer is wrapped; everything else passes through.
 *
 * @module
 */

import type { Handler } from "../http/dispatch.ts";
import type { ServerRequest } from "../http/request.ts";
import {
  type Capabilities,
  PreparedHeaders,
  type ResponseHeaders,
  type ResponseWriter,
} from "../http/writer.ts";

/** A writer that adds `extra` to the head it is given. */
class SiteHeadersWriter implements ResponseWriter {
  #res: ResponseWriter;
  #extra: ReadonlyArray<readonly [string, string]>;
  #names: ReadonlySet<string>;

  constructor(
    res: ResponseWriter,
    extra: ReadonlyArray<readonly [string, string]>,
    names: ReadonlySet<string>,
  ) {
    this.#res = res;
    this.#extra = extra;
    this.#names = names;
  }

  #with(headers: ResponseHeaders | undefined): ResponseHeaders {
    const pairs = headers === undefined ? [] : headers instanceof PreparedHeaders ? headers.pairs : headers;
    const kept = pairs.filter(([name]) => !this.#names.has(name.toLowerCase()));
    return [...kept, ...this.#extra];
  }

  get status(): number {
    return this.#res.status;
  }
  get headersSent(): boolean {
    return this.#res.headersSent;
  }
  get finished(): boolean {
    return this.#res.finished;
  }
  get bodyBytes(): number {
    return this.#res.bodyBytes;
  }
  get remainingLength(): number {
    return this.#res.remainingLength;
  }
  send(status: number, headers?: ResponseHeaders, body?: Uint8Array | string): Promise<void> {
    return this.#res.send(status, this.#with(headers), body);
  }
  writeHead(status: number, headers?: ResponseHeaders, contentLength?: number): void {
    this.#res.writeHead(status, this.#with(headers), contentLength);
  }
  write(chunk: Uint8Array | string): Promise<void> {
    return this.#res.write(chunk);
  }
  flush(): Promise<void> {
    return this.#res.flush();
  }
  end(chunk?: Uint8Array | string): Promise<void> {
    return this.#res.end(chunk);
  }
  abort(): void {
    this.#res.abort();
  }
  discardsBodyFor(status: number): boolean {
    return this.#res.discardsBodyFor(status);
  }
  capability<K extends keyof Capabilities>(name: K): Capabilities[K] | undefined {
    return this.#res.capability(name);
  }
}

/**
 * `handler` with `headers` added to each of its responses; `handler` itself when there are none.
 *
 * @example
 * ```ts ignore
 * const h = withSiteHeaders(files, { "X-Site": "a" });
 * ```
 */
export function withSiteHeaders(handler: Handler, headers: Record<string, string> | undefined): Handler {
  const extra = Object.entries(headers ?? {});
  if (extra.length === 0) return handler;
  new PreparedHeaders(extra); // checks names and values once, here: a bad one is a config error
  const names = new Set(extra.map(([n]) => n.toLowerCase()));
  return function siteHeaders(req: ServerRequest, res: ResponseWriter) {
    return handler(req, new SiteHeadersWriter(res, extra, names));
  };
}
