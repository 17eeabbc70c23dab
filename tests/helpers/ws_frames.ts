/**
 * A raw WebSocket client for protocol tests: the opening handshake written by hand over
 * `Deno.connect`, client frames built byte by byte (masked unless told otherwise, any bits,
 * any length form), and a reader of the server's frames.
 *
 * @module
 */

/** A frame to send. */
export interface ClientFrame {
  /** The opcode. */
  opcode: number;
  /** The payload (unmasked). */
  payload?: Uint8Array | string;
  /** FIN (default true). */
  fin?: boolean;
  /** RSV bits as a number 0–7 (RSV1 = 4). */
  rsv?: number;
  /** Whether to mask (default true). */
  mask?: boolean;
  /** Force the 16-bit or 64-bit length form. */
  lengthForm?: 16 | 64;
}

const enc = new TextEncoder();

/** The bytes of `payload` (a string as UTF-8). */
export function bytesOf(payload: Uint8Array | string | undefined): Uint8Array {
  if (payload === undefined) return new Uint8Array(0);
  return typeof payload === "string" ? enc.encode(payload) : payload;
}

/** Encodes one client frame. */
export function clientFrame(f: ClientFrame): Uint8Array {
  const payload = bytesOf(f.payload);
  const n = payload.length;
  const mask = f.mask ?? true;
  const head: number[] = [((f.fin ?? true) ? 0x80 : 0) | ((f.rsv ?? 0) << 4) | f.opcode];
  const m = mask ? 0x80 : 0;
  if (f.lengthForm === 64 || n > 65535) {
    head.push(m | 127, 0, 0, 0, 0, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  } else if (f.lengthForm === 16 || n > 125) head.push(m | 126, n >>> 8, n & 0xff);
  else head.push(m | n);
  const key = mask ? [0x37, 0xfa, 0x21, 0x3d] : [];
  const out = new Uint8Array(head.length + key.length + n);
  out.set(head, 0);
  out.set(key, head.length);
  const at = head.length + key.length;
  for (let i = 0; i < n; i++) out[at + i] = mask ? payload[i] ^ key[i & 3] : payload[i];
  return out;
}

/** A close frame's payload: code and reason. */
export function closeBody(code: number, reason: Uint8Array | string = ""): Uint8Array {
  const r = bytesOf(reason);
  const out = new Uint8Array(2 + r.length);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  out.set(r, 2);
  return out;
}

/** A frame the server sent. */
export interface ServerFrame {
  /** FIN. */
  fin: boolean;
  /** RSV1. */
  rsv1: boolean;
  /** The opcode. */
  opcode: number;
  /** The payload. */
  payload: Uint8Array;
  /** Whether the server masked it (it must not). */
  masked: boolean;
}

/** Reads server frames from a connection, after whatever bytes were already read. */
export class FrameReader {
  #conn: Deno.Conn;
  #buf: Uint8Array;
  #pos = 0;
  #end: number;

  /** A reader of `conn`, starting with `already`. */
  constructor(conn: Deno.Conn, already: Uint8Array = new Uint8Array(0)) {
    this.#conn = conn;
    this.#buf = new Uint8Array(Math.max(65536, already.length));
    this.#buf.set(already);
    this.#end = already.length;
  }

  /** Ensures `n` unread bytes are buffered; false when the connection ended first. */
  async #need(n: number): Promise<boolean> {
    while (this.#end - this.#pos < n) {
      if (this.#pos > 0) {
        this.#buf.copyWithin(0, this.#pos, this.#end);
        this.#end -= this.#pos;
        this.#pos = 0;
      }
      if (this.#buf.length - this.#end < 65536 || this.#buf.length < n) {
        const grown = new Uint8Array(Math.max(this.#buf.length * 2, n + 65536));
        grown.set(this.#buf.subarray(0, this.#end));
        this.#buf = grown;
      }
      let got: number | null;
      try {
        got = await this.#conn.read(this.#buf.subarray(this.#end));
      } catch {
        got = null;
      }
      if (got === null) return false;
      this.#end += got;
    }
    return true;
  }

  /** The next frame; null when the connection ended first. */
  async next(): Promise<ServerFrame | null> {
    if (!(await this.#need(2))) return null;
    const b = this.#buf;
    const p = this.#pos;
    const b0 = b[p];
    const b1 = b[p + 1];
    let len = b1 & 0x7f;
    let at = 2;
    if (len === 126) {
      if (!(await this.#need(4))) return null;
      len = (this.#buf[this.#pos + 2] << 8) | this.#buf[this.#pos + 3];
      at = 4;
    } else if (len === 127) {
      if (!(await this.#need(10))) return null;
      len = 0;
      for (let i = 2; i < 10; i++) len = len * 256 + this.#buf[this.#pos + i];
      at = 10;
    }
    const masked = (b1 & 0x80) !== 0;
    if (masked) at += 4;
    if (!(await this.#need(at + len))) return null;
    const start = this.#pos + at;
    const payload = this.#buf.slice(start, start + len);
    this.#pos = start + len;
    return { fin: (b0 & 0x80) !== 0, rsv1: (b0 & 0x40) !== 0, opcode: b0 & 0x0f, payload, masked };
  }

  /** Whether the connection ends (EOF or reset) with no further bytes. */
  async ended(): Promise<boolean> {
    if (this.#end > this.#pos) return false;
    return !(await this.#need(1));
  }
}

/** An open raw WebSocket connection. */
export interface RawSocket extends Disposable {
  /** The connection. */
  conn: Deno.Conn;
  /** The handshake response head. */
  head: string;
  /** The server's frames. */
  frames: FrameReader;
  /** Sends frames (all in one write). */
  send(...frames: ClientFrame[]): Promise<void>;
}

/** The client key used by raw handshakes. */
export const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

/** Sends a handshake request; resolves with the response head and the bytes after it. */
export async function handshake(
  port: number,
  path = "/",
  extra: string[] = [],
): Promise<{ conn: Deno.Conn; head: string; rest: Uint8Array }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const lines = [
    `GET ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Key: ${KEY}`,
    "Sec-WebSocket-Version: 13",
    ...extra,
  ];
  await conn.write(enc.encode(lines.join("\r\n") + "\r\n\r\n"));
  let buf = new Uint8Array(0);
  for (;;) {
    const text = new TextDecoder("latin1").decode(buf);
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) return { conn, head: text.slice(0, end), rest: buf.slice(end + 4) };
    const chunk = new Uint8Array(4096);
    const n = await conn.read(chunk);
    if (n === null) return { conn, head: text, rest: new Uint8Array(0) };
    const merged = new Uint8Array(buf.length + n);
    merged.set(buf);
    merged.set(chunk.subarray(0, n), buf.length);
    buf = merged;
  }
}

/** Opens a raw WebSocket (the handshake must succeed). */
export async function openRaw(port: number, path = "/", extra: string[] = []): Promise<RawSocket> {
  const { conn, head, rest } = await handshake(port, path, extra);
  if (!head.startsWith("HTTP/1.1 101 ")) {
    conn.close();
    throw new Error(`handshake refused: ${head.split("\r\n")[0]}`);
  }
  return {
    conn,
    head,
    frames: new FrameReader(conn, rest),
    async send(...frames: ClientFrame[]) {
      const parts = frames.map(clientFrame);
      const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        all.set(p, at);
        at += p.length;
      }
      await conn.write(all);
    },
    [Symbol.dispose]() {
      try {
        conn.close();
      } catch {
        // closed already
      }
    },
  };
}
