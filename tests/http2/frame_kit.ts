/**
 * Raw HTTP/2 frames for tests: builders for what a client sends (headers encoded with a fresh
 * HPACK encoder per connection), and a reader of what the server sends back, over a live socket
 * or over the bytes an in-memory session wrote.
 *
 * @module
 */

import { FLAG, FRAME, FrameReader, PREFACE } from "../../src/http2/frames.ts";
import { HpackDecoder, HpackEncoder } from "../../src/http2/hpack.ts";

export { FLAG, FRAME, PREFACE };

/** One frame the server sent, decoded. */
export interface SeenFrame {
  /** Type. */
  type: number;
  /** Flags. */
  flags: number;
  /** Stream. */
  stream: number;
  /** Payload copy. */
  payload: Uint8Array;
  /** For HEADERS: the decoded fields. */
  fields?: Array<[string, string]>;
  /** For RST_STREAM and GOAWAY: the error code. */
  code?: number;
  /** For GOAWAY: the last stream id. */
  last?: number;
}

function be32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

/** A frame's bytes. */
export function frame(
  type: number,
  flags: number,
  stream: number,
  payload: ArrayLike<number> = [],
): Uint8Array {
  const p = Uint8Array.from(payload as ArrayLike<number>);
  const out = new Uint8Array(9 + p.length);
  out.set([p.length >>> 16, (p.length >>> 8) & 0xff, p.length & 0xff, type, flags, ...be32(stream)]);
  out.set(p, 9);
  return out;
}

/** The request fields of a GET of `path`. */
export function get(path = "/", extra: Array<[string, string]> = []): Array<[string, string]> {
  return [[":method", "GET"], [":scheme", "http"], [":path", path], [":authority", "localhost"], ...extra];
}

/** Builds a client's frames for one connection (one HPACK encoder). */
export class Client {
  /** The encoder, shared by every header block of the connection. */
  enc: HpackEncoder = new HpackEncoder(4096);

  /**
   * The preface, SETTINGS, and the ACK of the server's SETTINGS (sent with its own, before any
   * frame is read: a client that never acknowledges is closed with SETTINGS_TIMEOUT).
   */
  start(settings: Array<[number, number]> = []): Uint8Array {
    return concat([PREFACE, this.settings(settings), this.settings([], FLAG.ACK)]);
  }

  /** SETTINGS with `[id, value]` pairs. */
  settings(pairs: Array<[number, number]>, flags = 0, stream = 0): Uint8Array {
    const p: number[] = [];
    for (const [id, v] of pairs) p.push(id >> 8, id & 0xff, ...be32(v));
    return frame(FRAME.SETTINGS, flags, stream, p);
  }

  /** An encoded header block. */
  block(fields: Array<[string, string]>): Uint8Array {
    return this.enc.encode(fields);
  }

  /** HEADERS (END_HEADERS unless `endHeaders` is false). */
  headers(
    stream: number,
    fields: Array<[string, string]>,
    o: { end?: boolean; endHeaders?: boolean; pad?: number; dependsOn?: number } = {},
  ): Uint8Array {
    let p: number[] = [...this.block(fields)];
    let flags = (o.end ?? true ? FLAG.END_STREAM : 0) | (o.endHeaders ?? true ? FLAG.END_HEADERS : 0);
    if (o.dependsOn !== undefined) {
      p = [...be32(o.dependsOn), 15, ...p];
      flags |= FLAG.PRIORITY;
    }
    if (o.pad !== undefined) {
      p = [o.pad, ...p, ...new Array(Math.max(0, o.pad)).fill(0)];
      flags |= FLAG.PADDED;
    }
    return frame(FRAME.HEADERS, flags, stream, p);
  }

  /** DATA. */
  data(stream: number, bytes: ArrayLike<number>, end = false): Uint8Array {
    return frame(FRAME.DATA, end ? FLAG.END_STREAM : 0, stream, bytes);
  }

  /** RST_STREAM. */
  rst(stream: number, code = 8): Uint8Array {
    return frame(FRAME.RST_STREAM, 0, stream, be32(code));
  }

  /** PING. */
  ping(ack = false, stream = 0, payload: number[] = [1, 2, 3, 4, 5, 6, 7, 8]): Uint8Array {
    return frame(FRAME.PING, ack ? FLAG.ACK : 0, stream, payload);
  }

  /** WINDOW_UPDATE. */
  windowUpdate(stream: number, inc: number): Uint8Array {
    return frame(FRAME.WINDOW_UPDATE, 0, stream, be32(inc));
  }

  /** PRIORITY. */
  priority(stream: number, dependsOn: number, length = 5): Uint8Array {
    return frame(FRAME.PRIORITY, 0, stream, [...be32(dependsOn), 15].slice(0, length));
  }
}

/** Concatenates byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Decodes the frames a server sent (one HPACK decoder per connection). */
export class ServerFrames {
  #reader = new FrameReader(1 << 24);
  #dec = new HpackDecoder(4096, 1 << 20);
  /** Every frame so far. */
  frames: SeenFrame[] = [];

  /** Adds bytes; returns the frames they completed. */
  add(bytes: Uint8Array): SeenFrame[] {
    this.#reader.push(bytes);
    const got: SeenFrame[] = [];
    for (let f = this.#reader.next(); f !== null; f = this.#reader.next()) {
      const seen: SeenFrame = {
        type: f.type,
        flags: f.flags,
        stream: f.streamId,
        payload: f.payload.slice(),
      };
      if (f.type === FRAME.HEADERS) {
        const d = this.#dec.decode(f.payload);
        seen.fields = d.names.map((n, i) => [n, d.values[i]]);
      } else if (f.type === FRAME.RST_STREAM) seen.code = word(f.payload, 0);
      else if (f.type === FRAME.GOAWAY) {
        seen.last = word(f.payload, 0);
        seen.code = word(f.payload, 4);
      }
      got.push(seen);
    }
    this.frames.push(...got);
    return got;
  }
}

function word(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

/**
 * Sends `bytes` to a live server (h2c, or TLS with ALPN h2) and reads its frames until `done` says so, the connection
 * closes, or `ms` pass (a guard against hanging; the outcome is judged on the frames).
 */
export async function exchange(
  port: number,
  bytes: Uint8Array,
  done: (frames: SeenFrame[]) => boolean,
  ms = 5000,
  ca?: string,
): Promise<{ frames: SeenFrame[]; closed: boolean }> {
  // With `ca`: over TLS with ALPN h2 (the HTTPS listener), trusting `ca`; else h2c.
  const conn = ca === undefined
    ? await Deno.connect({ hostname: "127.0.0.1", port })
    : await Deno.connectTls({ hostname: "localhost", port, caCerts: [ca], alpnProtocols: ["h2"] });
  const seen = new ServerFrames();
  let closed = false;
  const timer = setTimeout(() => conn.close(), ms);
  try {
    await conn.write(bytes);
    const buf = new Uint8Array(65536);
    for (;;) {
      if (done(seen.frames)) break;
      let n: number | null;
      try {
        n = await conn.read(buf);
      } catch {
        n = null;
      }
      if (n === null) {
        closed = true;
        break;
      }
      seen.add(buf.subarray(0, n));
    }
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // closed by the guard
    }
  }
  return { frames: seen.frames, closed };
}

/** A response read over HTTP/2. */
export interface H2Response {
  /** `:status`. */
  status: number;
  /** Fields, names lower-case. */
  headers: Array<[string, string]>;
  /** The body. */
  body: Uint8Array;
  /** The RST_STREAM code, when the stream was reset instead. */
  reset?: number;
}

/**
 * One request over h2c (prior knowledge), or over TLS with ALPN h2 when `ca` is given, on a new
 * connection with windows opened wide: the
 * fields (pseudo-headers first), an optional body sent in 16 KiB DATA frames, END_STREAM last.
 */
export async function request(
  port: number,
  fields: Array<[string, string]>,
  body?: Uint8Array,
  ca?: string,
): Promise<H2Response> {
  const c = new Client();
  const parts = [c.start([[4, 0x7fffffff]]), c.windowUpdate(0, 0x7fffffff - 65535)];
  parts.push(c.headers(1, fields, { end: body === undefined }));
  if (body !== undefined) {
    for (let at = 0; at < body.length || at === 0; at += 16384) {
      const end = at + 16384 >= body.length;
      parts.push(c.data(1, body.subarray(at, at + 16384), end));
      if (end) break;
    }
  }
  const { frames } = await exchange(
    port,
    concat(parts),
    (fs) =>
      fs.some((f) =>
        f.stream === 1 &&
        ((f.flags & FLAG.END_STREAM) !== 0 && f.type !== FRAME.PING || f.type === FRAME.RST_STREAM)
      ) || fs.some((f) => f.type === FRAME.GOAWAY),
    5000,
    ca,
  );
  const heads = frames.filter((f) => f.type === FRAME.HEADERS && f.stream === 1);
  const data = frames.filter((f) => f.type === FRAME.DATA && f.stream === 1).map((f) => f.payload);
  const fieldsOut = heads[0]?.fields ?? [];
  return {
    status: Number(fieldsOut.find(([n]) => n === ":status")?.[1] ?? 0),
    headers: fieldsOut.filter(([n]) => !n.startsWith(":")),
    body: concat(data),
    reset: frames.find((f) => f.type === FRAME.RST_STREAM && f.stream === 1)?.code,
  };
}

/** A field of `res`, or undefined. */
export function field(res: H2Response, name: string): string | undefined {
  return res.headers.find(([n]) => n === name)?.[1];
}
