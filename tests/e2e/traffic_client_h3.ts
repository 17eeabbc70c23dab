/**
 * The traffic matrix's HTTP/3 client: the shapes of `traffic_client.py` (which has no QUIC
 * library to lean on) over Deno's own QUIC client (`Deno.connectQuic`, `--unstable-net`), run in
 * the test's process. Each shape answers with the same JSON fields as the Python client's, so the
 * rows of `traffic_matrix.ts` check both alike; a stream the server reset (or ended without a
 * response) reads as `reset: 0` (Deno's API gives no application error code).
 *
 * @module
 */

import { FrameReader } from "../../src/http3/frames.ts";
import { decodeFieldSection } from "../../src/http3/qpack.ts";
import { H3Client } from "../http3/h3_client.ts";
import { cat, fr, hd, vi } from "../http3/h3_kit.ts";

/** What one request got. */
interface Got {
  status: number;
  /** Body bytes received. */
  bytes: number;
  /** Body bytes that are `b` (the download's filler). */
  bs: number;
  /** The body as text, when asked to keep it. */
  text: string;
  /** The server reset the stream (or the connection went) before its end. */
  reset: boolean;
}

type Fields = Array<[string, string]>;

const DATA = 0x00;
const HEADERS = 0x01;
const B = 0x62;

function fields(method: string, path: string, extra: Fields = []): Fields {
  return [[":method", method], [":scheme", "https"], [":authority", "localhost"], [":path", path], ...extra];
}

/** A DATA frame's header for `n` bytes (its payload written after it, uncopied). */
function dataHead(n: number): Uint8Array {
  return cat([DATA], vi(n));
}

/** Reads a response, counting its body; keeps the text of up to `keep` bytes. */
async function read(readable: ReadableStream<Uint8Array>, keep = 4096): Promise<Got> {
  const got: Got = { status: 0, bytes: 0, bs: 0, text: "", reset: false };
  const frames = new FrameReader(1 << 20);
  const dec = new TextDecoder();
  const reader = readable.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const f of frames.push(value)) {
        if (f.kind === "data") {
          got.bytes += f.bytes.length;
          for (const b of f.bytes) if (b === B) got.bs++;
          if (got.text.length < keep) got.text += dec.decode(f.bytes.subarray(0, keep - got.text.length));
        } else if (f.kind === "frame" && f.type === HEADERS && got.status === 0) {
          const s = decodeFieldSection(f.payload, 1 << 20);
          const status = Number(s.values[s.names.indexOf(":status")]);
          if (status >= 200) got.status = status;
        }
      }
    }
  } catch {
    got.reset = true;
  }
  // Deno's QUIC shows a stream the server reset as a clean end: one without a final status was cut.
  if (got.status === 0) got.reset = true;
  return got;
}

/** Sends a request (its body in pieces of 64 KiB, as DATA frames) and reads the answer. */
async function request(c: H3Client, f: Fields, body?: Uint8Array): Promise<Got> {
  const bidi = await c.quic.createBidirectionalStream({ waitUntilAvailable: true });
  const w = bidi.writable.getWriter();
  const answer = read(bidi.readable);
  try {
    await w.write(hd(f));
    for (let at = 0; body !== undefined && at < body.length; at += PIECE) {
      const piece = body.subarray(at, Math.min(at + PIECE, body.length));
      await w.write(dataHead(piece.length));
      await w.write(piece);
    }
    await w.close();
  } catch {
    // reset by the server: the answer says how
  }
  return await answer;
}

const PIECE = 64 * 1024;

function json(g: Got): Record<string, unknown> {
  return { status: g.status, reset: g.reset ? 0 : null, goaway: null, closed: false, bytes: g.bytes };
}

// --- Shapes -------------------------------------------------------------------------------------

type Params = Record<string, unknown>;
type Shape = (c: H3Client, p: Params, ready: () => Promise<void>) => Promise<Record<string, unknown>>;

/** A large first request (a POST body or a cookie), then `n` GETs on the same connection. */
const keepalive: Shape = async (c, p) => {
  const bytes = p.bytes as number;
  const first = p.first === "post"
    ? await request(
      c,
      fields("POST", "/count", [["content-type", "application/octet-stream"]]),
      new Uint8Array(bytes).fill(0x70),
    )
    : await request(c, fields("GET", (p.path as string) ?? "/count", [["cookie", "c=" + "k".repeat(bytes)]]));
  let ok = 0;
  const statuses: Record<number, number> = {};
  for (let i = 0; i < (p.n as number); i++) {
    const r = await request(c, fields("GET", `/count?i=${i}`));
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    if (r.status === 200 && r.text === "GET 0") ok++;
    if (r.status === 0) break;
  }
  return { first: first.status, first_body: first.text, ok, statuses, goaway: c.goaways[0] ?? null };
};

const upload: Shape = async (c, p) => {
  const body = new Uint8Array(p.bytes as number).fill(0x75);
  const r = await request(c, fields("PUT", "/count", [["content-type", "application/octet-stream"]]), body);
  return { status: r.status, body: r.text };
};

const download: Shape = async (c, p) => {
  const r = await request(c, fields("GET", `/bytes?n=${p.bytes}`));
  return { status: r.status, bytes: r.bytes, all_b: r.bs };
};

/** A download of `bytes` given up after `after` bytes (STOP_SENDING), then a request on the same connection. */
const abandon: Shape = async (c, p) => {
  const bidi = await c.quic.createBidirectionalStream({ waitUntilAvailable: true });
  const w = bidi.writable.getWriter();
  await w.write(hd(fields("GET", `/bytes?n=${p.bytes}`)));
  await w.close();
  const reader = bidi.readable.getReader();
  let got = 0;
  while (got < (p.after as number)) {
    const { value, done } = await reader.read();
    if (done) break;
    got += value.length;
  }
  await reader.cancel().catch(() => {});
  const next = await request(c, fields("GET", "/count"));
  return { got, next: next.status, next_body: next.text, reset: next.reset ? 0 : null };
};

/** A body declared at `bytes`, sent one byte every `every` seconds until the server ends it. */
const trickle: Shape = async (c, p) => {
  const n = p.bytes as number;
  const bidi = await c.quic.createBidirectionalStream({ waitUntilAvailable: true });
  const w = bidi.writable.getWriter();
  let answered: Got | undefined;
  const answer = read(bidi.readable).then((g) => answered = g);
  const start = Date.now();
  let sent = 0;
  try {
    await w.write(hd(fields("POST", "/count", [["content-length", String(n)]])));
    while (sent < n && answered === undefined && Date.now() - start < (p.give_up as number) * 1000) {
      await w.write(fr(DATA, [0x74]));
      sent++;
      await Promise.race([answer, new Promise((r) => setTimeout(r, (p.every as number) * 1000))]);
    }
  } catch {
    // the server reset the stream (STOP_SENDING): the read side says so too
  }
  if (answered === undefined) {
    // Given up: the stream is cut from this side.
    w.abort().catch(() => {});
    bidi.readable.cancel().catch(() => {});
  }
  const r = answered ?? { status: 0, reset: false } as Got;
  return { ...json(r), sent };
};

/** Asks for `n` cached files on one connection (as many streams as QUIC grants) and never reads. */
const nonreader: Shape = async (c, p, ready) => {
  let sent = 0;
  const streams: Deno.QuicBidirectionalStream[] = []; // held, never read, until the connection closes
  for (let i = 0; i < (p.n as number); i++) {
    let bidi: Deno.QuicBidirectionalStream;
    try {
      bidi = await c.quic.createBidirectionalStream({ waitUntilAvailable: false });
    } catch {
      break; // QUIC's MAX_STREAMS: no more streams until the server's answers are read
    }
    const w = bidi.writable.getWriter();
    await w.write(hd(fields("GET", `${p.path}?i=${i}`)));
    await w.close();
    streams.push(bidi);
    sent++;
  }
  await ready();
  return { sent };
};

/** `n` streams opened and reset at once (HEADERS, then RESET_STREAM and STOP_SENDING). */
const burst: Shape = async (c, p, ready) => {
  let opened = 0;
  for (let i = 0; i < (p.n as number); i++) {
    const bidi = await c.quic.createBidirectionalStream({ waitUntilAvailable: true });
    const w = bidi.writable.getWriter();
    w.write(hd(fields("GET", p.path as string))).catch(() => {});
    w.abort().catch(() => {});
    bidi.readable.cancel().catch(() => {});
    opened++;
  }
  await ready();
  return { opened, goaway: c.goaways[0] ?? null, closed: false };
};

/** A POST whose body is still arriving when the test stops the server (SIGTERM). */
const drain: Shape = async (c, p, ready) => {
  const parts = (p.parts as string[]).map((s) => new TextEncoder().encode(s));
  const length = parts.reduce((n, b) => n + b.length, 0);
  const bidi = await c.quic.createBidirectionalStream({ waitUntilAvailable: true });
  const w = bidi.writable.getWriter();
  const answer = read(bidi.readable);
  await w.write(
    cat(hd(fields("POST", p.path as string, [["content-length", String(length)]])), fr(DATA, parts[0])),
  );
  // The server has the stream once a request opened after it was answered (it accepts streams
  // in order, and its GOAWAY then leaves out only ids above the later one).
  await request(c, fields("GET", "/count"));
  await ready(); // the test sends SIGTERM here
  const pause = () => new Promise((r) => setTimeout(r, (p.pause as number) * 1000));
  await pause();
  try {
    for (const part of parts.slice(1)) {
      await w.write(fr(DATA, part));
      await pause();
    }
    await w.close();
  } catch {
    // cut: the answer says so
  }
  const r = await answer;
  return { status: r.status, body: r.text, reset: r.reset ? 0 : null, goaway: c.goaways[0] ?? null };
};

/** Each of `methods` on a fresh connection: the status, or a reset. */
async function methods(port: number, ca: string, p: Params): Promise<Record<string, unknown>> {
  const results = [];
  for (const m of p.methods as string[]) {
    await using c = await H3Client.connect(port, ca);
    const extra = (p.extra as Fields | undefined) ?? [];
    const r = await request(c, fields(m, "/count", extra));
    results.push({ method: m, status: r.status, reset: r.reset ? 0 : null, goaway: null });
  }
  return { results };
}

const SHAPES: Record<string, Shape> = {
  keepalive,
  upload,
  download,
  abandon,
  trickle,
  nonreader,
  burst,
  drain,
};

/**
 * Runs `shape` with `params` against ferry's HTTP/3 on UDP `port` (trusting the PEM file `ca`);
 * `held` is called once a shape that waits for the test is in place. Answers as
 * `traffic_client.py` does.
 */
export async function runH3Shape(
  shape: string,
  port: number,
  ca: string,
  params: Params,
  held: () => Promise<void> = () => Promise.resolve(),
): Promise<Record<string, unknown>> {
  const cert = await Deno.readTextFile(ca);
  if (shape === "methods") return await methods(port, cert, params);
  const run = SHAPES[shape];
  if (run === undefined) throw new RangeError(`no HTTP/3 client for the shape ${shape}`);
  await using c = await H3Client.connect(port, cert);
  return await run(c, params, held);
}
