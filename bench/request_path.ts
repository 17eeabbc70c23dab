/**
 * The harness of `bench/request_path_bench.ts`: the real {@linkcode Connection} over
 * {@linkcode MemoryConn}, an in-memory `Deno.Conn`, behind a server with ferry's default mount
 * table, so that one request's way from bytes in the read buffer to bytes in the output buffer
 * (parse, route, handler, head and body encoding, the access line and the metrics) is measured
 * without the kernel and without the noise of the machine.
 *
 * Run directly, it serves one case in a loop (for a CPU profile) and prints ns per request:
 * `deno run -A --cpu-prof bench/request_path.ts "bare handler" keep-alive 200000`.
 *
 * @module
 */

import { join } from "node:path";
import { Connection } from "../src/http1/connection.ts";
import { defaultMounts, Logger, resolveOptions, Server, Stats, wsgiHandler } from "../src/mod.ts";
import { exampleApp } from "../src/app/example_app.ts";
import type { Handler } from "../src/http/dispatch.ts";
import { fetchHandler } from "../src/app/fetch.ts";
import fetchApp from "../scripts/peers/fetch_app.ts";
import honoApp from "../scripts/peers/hono_app.ts";

/** Requests in a pipelined burst (wrk's `--pipeline 16` in `deno task bench`). */
export const BURST = 16;

/**
 * An in-memory `Deno.Conn`: reads take the bytes queued by {@linkcode MemoryConn.deliver}, writes
 * are counted (and kept when asked). A read with nothing queued parks until the next delivery,
 * and that park ends a round: the connection has answered and waits for more.
 */
export class MemoryConn {
  /** The client's address, as a socket's. */
  readonly remoteAddr: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 40000 };
  /** The server's address, as a socket's. */
  readonly localAddr: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 8080 };
  /** Bytes written by the server. */
  written = 0;
  /** Writes made by the server. */
  writes = 0;
  /** Copies of the bytes written while {@linkcode MemoryConn.keep} is on. */
  kept: Uint8Array[] = [];
  /** Whether written bytes are kept. */
  keep = false;
  #queued: Uint8Array | undefined;
  #queuedAt = 0;
  #parkedInto: Uint8Array | undefined;
  #parkedResolve: ((n: number | null) => void) | undefined;
  #onPark: (() => void) | undefined;
  #closed = false;

  /** `Deno.Conn.read`: queued bytes at once, else a wait for the next delivery. */
  read(into: Uint8Array): Promise<number | null> {
    if (this.#closed) return Promise.resolve(null);
    if (this.#queued !== undefined) return Promise.resolve(this.#take(into));
    return new Promise((resolve) => {
      this.#parkedInto = into;
      this.#parkedResolve = resolve;
      const park = this.#onPark;
      this.#onPark = undefined;
      park?.();
    });
  }

  /** Copies as much of the queued bytes as fit into `into`. */
  #take(into: Uint8Array): number {
    const q = this.#queued!;
    const n = Math.min(into.length, q.length - this.#queuedAt);
    into.set(q.subarray(this.#queuedAt, this.#queuedAt + n));
    this.#queuedAt += n;
    if (this.#queuedAt === q.length) this.#queued = undefined;
    return n;
  }

  /** Resolves when the connection waits to read. */
  parked(): Promise<void> {
    if (this.#parkedResolve !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.#onPark = resolve);
  }

  /** Hands `bytes` to the connection; resolves when it has answered them and waits to read again. */
  deliver(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      this.#onPark = resolve;
      this.#queued = bytes;
      this.#queuedAt = 0;
      const r = this.#parkedResolve;
      if (r !== undefined) {
        this.#parkedResolve = undefined;
        r(this.#take(this.#parkedInto!));
      }
    });
  }

  /** `Deno.Conn.write`: all of `p`, at once. */
  write(p: Uint8Array): Promise<number> {
    this.written += p.length;
    this.writes++;
    if (this.keep) this.kept.push(p.slice());
    return Promise.resolve(p.length);
  }

  /** `Deno.Conn.close`: a parked read ends. */
  close(): void {
    this.#closed = true;
    const r = this.#parkedResolve;
    this.#parkedResolve = undefined;
    r?.(null);
  }

  /** `Deno.Conn.closeWrite`. */
  closeWrite(): Promise<void> {
    return Promise.resolve();
  }
}

/** A log sink that discards what it is given. */
const discard = { write: (p: Uint8Array) => Promise.resolve(p.length) };

const textPlain: [string, string][] = [["Content-Type", "text/plain; charset=utf-8"]];
const helloBody = new TextEncoder().encode("Hello, World!");
/** The bare handler: a constant answer, as `scripts/peers/ferry_native.ts`'s. */
const bare: Handler = (_req, res) => res.send(200, textPlain, helloBody);

/** The cases: which app serves, which path is asked for, and the body length expected. */
export const CASES = [
  { id: "bare handler", app: "bare", path: "/hello", length: 13 },
  { id: "example app", app: "example", path: "/hello", length: 13 },
  // The fetch-app rows of `deno task bench` (scripts/peers/): Response.json, and Hono's c.json.
  { id: "fetch app /json", app: "fetch", path: "/json", length: 27 },
  { id: "hono app /json", app: "hono", path: "/json", length: 27 },
  { id: "static 4 KiB", app: "bare", path: "/static/bench-4k.bin", length: 4096 },
] as const;

/** One of {@linkcode CASES}. */
export type Case = typeof CASES[number];

/** A directory with the static case's file (`bench-4k.bin`), removed when the process ends. */
export async function staticRoot(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "ferry-bench-path-" });
  await Deno.writeFile(join(root, "bench-4k.bin"), crypto.getRandomValues(new Uint8Array(4096)));
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(root, { recursive: true });
    } catch {
      // already gone
    }
  });
  return root;
}

/**
 * A server as `deno task start` makes one (the default mounts over `root`, plain access lines,
 * metrics on) with `app` behind it, and a connection to it over a {@linkcode MemoryConn}.
 */
export async function connect(app: Case["app"], root: string): Promise<MemoryConn> {
  const stats = new Stats();
  const options = { https: false, port: 0, root };
  const log = new Logger("plain", discard, discard, "info", () => stats.logLinesDropped++);
  const handler = app === "bare"
    ? bare
    : app === "fetch"
    ? fetchHandler(fetchApp)
    : app === "hono"
    ? fetchHandler(honoApp)
    : wsgiHandler(exampleApp, { log });
  const server = new Server(options, {
    mounts: defaultMounts(resolveOptions(options), handler, log, stats),
    app: handler,
    log,
    stats,
  });
  const conn = new MemoryConn();
  new Connection(conn as unknown as Deno.Conn, server, 1, false).run();
  await conn.parked();
  return conn;
}

/** `GET path` as wrk sends it. */
export function request(path: string, times = 1): Uint8Array {
  const one = new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n`);
  const out = new Uint8Array(one.length * times);
  for (let i = 0; i < times; i++) out.set(one, i * one.length);
  return out;
}

/** Delivers `bytes` once and checks that `count` answers 200 with `bodyLength` bytes came back. */
export async function check(conn: MemoryConn, bytes: Uint8Array, count: number, bodyLength: number) {
  conn.keep = true;
  conn.kept = [];
  await conn.deliver(bytes);
  conn.keep = false;
  const text = conn.kept.map((p) => new TextDecoder("latin1").decode(p)).join("");
  const heads = text.split("HTTP/1.1 200 OK\r\n").length - 1;
  const lengths = text.split(`Content-Length: ${bodyLength}\r\n`).length - 1;
  if (heads !== count || lengths !== count) {
    throw new Error(`expected ${count} answers 200 of ${bodyLength} bytes, got:\n${text.slice(0, 600)}`);
  }
}

/** A connection for `c`, checked once, and the bytes of one round (one request, or a burst). */
export async function prepare(c: Case, pipelined: boolean, root: string) {
  const conn = await connect(c.app, root);
  const bytes = request(c.path, pipelined ? BURST : 1);
  await check(conn, bytes, pipelined ? BURST : 1, c.length);
  return { conn, bytes };
}

/** ns per request of `rounds` rounds of `c` (after a tenth as many to warm up). */
export async function measure(c: Case, pipelined: boolean, root: string, rounds: number): Promise<number> {
  const { conn, bytes } = await prepare(c, pipelined, root);
  for (let i = 0; i < rounds / 10; i++) await conn.deliver(bytes);
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) await conn.deliver(bytes);
  return (performance.now() - t0) * 1e6 / rounds / (pipelined ? BURST : 1);
}

/**
 * The harness's floor: an in-memory connection served by a loop that reads and writes a constant,
 * parsing nothing (the raw ceiling's loop). What a case costs above it is ferry's.
 */
export async function floorConn(): Promise<{ conn: MemoryConn; bytes: Uint8Array }> {
  const conn = new MemoryConn();
  const answer = new TextEncoder().encode("HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, World!");
  (async () => {
    const buf = new Uint8Array(1024);
    while ((await conn.read(buf)) !== null) await conn.write(answer);
  })();
  await conn.parked();
  return { conn, bytes: request("/hello") };
}

/** ns per round of the floor. */
export async function floor(rounds: number): Promise<number> {
  const { conn, bytes } = await floorConn();
  for (let i = 0; i < rounds / 10; i++) await conn.deliver(bytes);
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) await conn.deliver(bytes);
  return (performance.now() - t0) * 1e6 / rounds;
}

if (import.meta.main) {
  // `all [ROUNDS]`: every case, one line of ns per request each; else one case in a loop.
  const [id = "all", mode = "keep-alive", n = "100000"] = Deno.args;
  const root = await staticRoot();
  if (id === "all") {
    const rounds = Number(Deno.args[1] ?? 50000);
    const row: Record<string, number> = { floor: Math.round(await floor(rounds)) };
    for (const c of CASES) {
      for (const pipelined of [false, true]) {
        const ns = await measure(c, pipelined, root, pipelined ? rounds / BURST * 4 : rounds);
        row[`${c.id}, ${pipelined ? "pipelined" : "keep-alive"}`] = Math.round(ns);
      }
    }
    console.log(JSON.stringify(row));
  } else {
    const c = CASES.find((c) => c.id === id);
    if (c === undefined) throw new Error(`no case ${id}: ${CASES.map((c) => c.id).join(", ")}`);
    const ns = await measure(c, mode === "pipelined", root, Number(n));
    console.log(`${c.id}, ${mode}: ${ns.toFixed(0)} ns per request`);
  }
}
