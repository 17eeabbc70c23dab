/**
 * A raw HTTP/1.1 client for tests: writes exact bytes to a real socket and parses what comes back
 * (Content-Length, chunked and close-delimited bodies, HEAD, 1xx), so tests see the wire.
 *
 * @module
 */

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A parsed response. */
export interface RawResponse {
  /** Status code. */
  status: number;
  /** Reason phrase. */
  reason: string;
  /** Header fields, names lower-cased, in order. */
  headers: Array<[string, string]>;
  /** The body bytes (decoded from chunked when chunked). */
  body: Uint8Array;
  /** Whether the body was chunked. */
  chunked: boolean;
  /** Whether the chunked body ended with its last chunk (false when the connection dropped). */
  complete: boolean;
}

/** First value of a header in `res`. */
export function header(res: RawResponse, name: string): string | undefined {
  return res.headers.find(([n]) => n === name.toLowerCase())?.[1];
}

/** The body as text. */
export function text(res: RawResponse): string {
  return dec.decode(res.body);
}

/** Bytes from a string, each char one byte (latin1). */
export function bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/**
 * A socket with a read buffer and a response parser. Every wait is bounded by `timeoutMs`, so a
 * server that never answers fails the test instead of hanging it.
 */
export class RawClient implements AsyncDisposable {
  readonly conn: Deno.Conn;
  #buf = new Uint8Array(0);
  #eof = false;
  timeoutMs: number;

  private constructor(conn: Deno.Conn, timeoutMs: number) {
    this.conn = conn;
    this.timeoutMs = timeoutMs;
  }

  /** Connects to 127.0.0.1:`port`. */
  static async connect(port: number, timeoutMs = 10000): Promise<RawClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    return new RawClient(conn, timeoutMs);
  }

  /** Wraps an existing connection (a TLS one, say). */
  static wrap(conn: Deno.Conn, timeoutMs = 10000): RawClient {
    return new RawClient(conn, timeoutMs);
  }

  /** Writes all of `data`. */
  async send(data: string | Uint8Array): Promise<void> {
    const b = typeof data === "string" ? bytes(data) : data;
    let off = 0;
    while (off < b.length) off += await this.conn.write(b.subarray(off));
  }

  /** Half-closes: the server sees end of stream. */
  async closeWrite(): Promise<void> {
    await this.conn.closeWrite();
  }

  #pending: { read: Promise<number | null>; into: Uint8Array } | null = null;

  /** Starts a read, or returns the one still pending from an earlier poll. */
  #startRead(): { read: Promise<number | null>; into: Uint8Array } {
    if (this.#pending === null) {
      const into = new Uint8Array(65536);
      const read = this.conn.read(into).catch((e) => {
        if (e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BadResource) return null;
        throw e;
      });
      this.#pending = { read, into };
    }
    return this.#pending;
  }

  #append(into: Uint8Array, n: number | null): boolean {
    this.#pending = null;
    if (n === null) {
      this.#eof = true;
      return false;
    }
    const next = new Uint8Array(this.#buf.length + n);
    next.set(this.#buf);
    next.set(into.subarray(0, n), this.#buf.length);
    this.#buf = next;
    return true;
  }

  /** Reads more bytes; false at EOF (or reset). Fails after `timeoutMs` without data. */
  async #more(): Promise<boolean> {
    if (this.#eof) return false;
    const { read, into } = this.#startRead();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no data from the server within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    try {
      return this.#append(into, await Promise.race([read, timeout]));
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Waits up to `ms` for bytes and returns how many arrived (0 when none did). Used to check
   * that the server has sent nothing yet; a read still pending is kept for the next call.
   */
  async poll(ms: number): Promise<number> {
    if (this.#eof) return 0;
    const { read, into } = this.#startRead();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const quiet = new Promise<"quiet">((r) => timer = setTimeout(() => r("quiet"), ms));
    const got = await Promise.race([read, quiet]);
    clearTimeout(timer);
    if (got === "quiet") return 0;
    this.#append(into, got);
    return got ?? 0;
  }

  /** Bytes received and not yet parsed. */
  get buffered(): Uint8Array {
    return this.#buf;
  }

  #take(n: number): Uint8Array {
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.slice(n);
    return out;
  }

  async #line(): Promise<string> {
    for (;;) {
      const i = this.#buf.indexOf(0x0a);
      if (i >= 0) {
        const line = dec.decode(this.#take(i + 1));
        if (!line.endsWith("\r\n")) throw new Error(`response line without CRLF: ${JSON.stringify(line)}`);
        return line.slice(0, -2);
      }
      if (!(await this.#more())) throw new Error("connection closed inside a response head");
    }
  }

  /**
   * Reads one response. Pass the request method so a HEAD response is read without a body.
   * Interim (1xx) responses are returned like any other.
   */
  async response(method = "GET"): Promise<RawResponse> {
    const statusLine = await this.#line();
    const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(statusLine);
    if (!m) throw new Error(`bad status line: ${JSON.stringify(statusLine)}`);
    const status = Number(m[1]);
    const headers: Array<[string, string]> = [];
    for (;;) {
      const line = await this.#line();
      if (line === "") break;
      const c = line.indexOf(":");
      headers.push([line.slice(0, c).toLowerCase(), line.slice(c + 1).trim()]);
    }
    const res: RawResponse = {
      status,
      reason: m[2],
      headers,
      body: new Uint8Array(0),
      chunked: false,
      complete: true,
    };
    if (status < 200 || status === 204 || status === 304 || method === "HEAD") return res;
    const te = header(res, "transfer-encoding");
    const cl = header(res, "content-length");
    if (te !== undefined) {
      res.chunked = true;
      const parts: Uint8Array[] = [];
      for (;;) {
        let sizeLine: string;
        try {
          sizeLine = await this.#line();
        } catch {
          res.complete = false;
          break;
        }
        const size = parseInt(sizeLine.split(";")[0], 16);
        if (Number.isNaN(size)) throw new Error(`bad chunk size line ${JSON.stringify(sizeLine)}`);
        if (size === 0) {
          while ((await this.#line()) !== "") { /* trailers */ }
          break;
        }
        while (this.#buf.length < size + 2) {
          if (!(await this.#more())) {
            res.complete = false;
            break;
          }
        }
        if (!res.complete) break;
        parts.push(this.#take(size));
        this.#take(2);
      }
      res.body = concat(parts);
    } else if (cl !== undefined) {
      const n = Number(cl);
      while (this.#buf.length < n) {
        if (!(await this.#more())) {
          throw new Error(`connection closed after ${this.#buf.length} of ${n} body bytes`);
        }
      }
      res.body = this.#take(n);
    } else {
      while (await this.#more()) { /* close-delimited */ }
      res.body = this.#take(this.#buf.length);
    }
    return res;
  }

  /** Whether the server closes the connection (reads until EOF; unexpected bytes fail). */
  async closed(): Promise<boolean> {
    while (await this.#more()) { /* keep reading */ }
    return this.#buf.length === 0;
  }

  /** Reads everything until the server closes. */
  async readAll(): Promise<Uint8Array> {
    while (await this.#more()) { /* keep reading */ }
    return this.#take(this.#buf.length);
  }

  /** Closes the socket. */
  close(): void {
    try {
      this.conn.close();
    } catch {
      // closed
    }
  }

  /** Same as {@linkcode RawClient.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/** Concatenates byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** One request over a fresh connection; returns the response and whether the server then closed. */
export async function exchange(
  port: number,
  request: string | Uint8Array,
  method = "GET",
): Promise<RawResponse & { closedAfter: boolean }> {
  await using c = await RawClient.connect(port);
  await c.send(request);
  const res = await c.response(method);
  const hasClose = /close/i.test(header(res, "connection") ?? "");
  // Only wait for EOF when the server said it would close; otherwise probe with a short wait.
  const closedAfter = hasClose ? await c.closed() : false;
  return { ...res, closedAfter };
}

export { enc as encoder };
