/**
 * `deno task loadgen`: an HTTP/1.1 load generator on raw sockets (`Deno.connect`,
 * `Deno.connectTls`), with keep-alive, pipelining, bodies, a progress bar, and a table of
 * requests/s, bytes/s, latency percentiles (hdr-histogram-js) and errors by kind.
 *
 * ```sh
 * deno task loadgen --url http://127.0.0.1:8080/hello --connections 50 --duration 10
 * deno task loadgen --url https://localhost:8443/hello --insecure --pipeline 16 --json
 * deno task loadgen --h3 --url https://localhost:8443/hello --ca-cert certs/localhost-cert.pem --pipeline 16
 * ```
 *
 * @module
 */

import { Command, InvalidArgumentError } from "commander";
import cliProgress from "cli-progress";
import * as hdr from "hdr-histogram-js";
import { runH3 } from "./loadgen_h3.ts";

/** Options of a run. */
export interface LoadOptions {
  /** Target URL (http or https). */
  url: string;
  /** Concurrent connections. */
  connections: number;
  /** Seconds to run (used when `requests` is 0). */
  duration: number;
  /** Total requests to send (0: run for `duration`). */
  requests: number;
  /** Requests written back to back on a connection before reading the responses. */
  pipeline: number;
  /** One request per connection (`Connection: close`). */
  noKeepalive: boolean;
  /** Method. */
  method: string;
  /** Request body. */
  body?: Uint8Array;
  /** Seconds without progress before a request counts as timed out. */
  timeout: number;
}

/** What a run measured. */
export interface LoadResult {
  /** Responses received. */
  requests: number;
  /** Seconds measured. */
  seconds: number;
  /** Responses per second. */
  requestsPerSecond: number;
  /** Response bytes per second (heads and bodies). */
  bytesPerSecond: number;
  /** Latency percentiles and max, ms. */
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** Errors by kind. */
  errors: Record<string, number>;
  /** Responses by status class. */
  statuses: Record<string, number>;
}

const CR = 0x0d;
const LF = 0x0a;

/** Finds CRLFCRLF in buf[from..end); returns the index after it, or -1. */
function headEnd(buf: Uint8Array, from: number, end: number): number {
  for (let i = from + 3; i < end; i++) {
    if (buf[i] === LF && buf[i - 1] === CR && buf[i - 2] === LF && buf[i - 3] === CR) return i + 1;
  }
  return -1;
}

/** Case-insensitive match of an ASCII lower-case `name` at `at`. */
function nameAt(buf: Uint8Array, at: number, name: string): boolean {
  for (let i = 0; i < name.length; i++) if ((buf[at + i] | 0x20) !== name.charCodeAt(i)) return false;
  return buf[at + name.length] === 0x3a;
}

/** Content-Length (or -1) and whether the body is chunked, from a response head. */
function framing(buf: Uint8Array, start: number, end: number): { length: number; chunked: boolean } {
  let length = -1;
  let chunked = false;
  let line = start;
  for (let i = start; i < end; i++) {
    if (buf[i] !== LF) continue;
    const c = buf[line] | 0x20;
    if (c === 0x63 && nameAt(buf, line, "content-length")) {
      let n = 0;
      for (let j = line + 15; j < i; j++) {
        const d = buf[j] - 0x30;
        if (d >= 0 && d <= 9) n = n * 10 + d;
      }
      length = n;
    } else if (c === 0x74 && nameAt(buf, line, "transfer-encoding")) {
      chunked = true;
    }
    line = i + 1;
  }
  return { length, chunked };
}

/** Length of a complete chunked body at buf[from..end), or -1 while incomplete. */
function chunkedLength(buf: Uint8Array, from: number, end: number): number {
  let p = from;
  for (;;) {
    let size = 0;
    let q = p;
    while (q < end && buf[q] !== CR) {
      const b = buf[q] | 0x20;
      if (b === 0x3b) { // extensions: skip to CR
        while (q < end && buf[q] !== CR) q++;
        break;
      }
      size = size * 16 + (b <= 0x39 ? b - 0x30 : b - 0x57);
      q++;
    }
    if (q + 1 >= end) return -1;
    q += 2;
    if (size === 0) {
      // trailers until an empty line
      for (;;) {
        if (q + 1 >= end) return -1;
        if (buf[q] === CR && buf[q + 1] === LF) return q + 2 - from;
        while (q + 1 < end && !(buf[q] === CR && buf[q + 1] === LF)) q++;
        if (q + 1 >= end) return -1;
        q += 2;
      }
    }
    if (q + size + 2 > end) return -1;
    p = q + size + 2;
  }
}

/** Runs the load; `onTick` is called with the responses so far, about five times a second. */
export async function run(
  o: LoadOptions,
  onTick?: (done: number, elapsed: number) => void,
): Promise<LoadResult> {
  const url = new URL(o.url);
  const tls = url.protocol === "https:";
  const port = Number(url.port || (tls ? 443 : 80));
  const hostname = url.hostname.replace(/^\[|\]$/g, "");
  const target = url.pathname + url.search;
  const enc = new TextEncoder();
  const head = `${o.method} ${target} HTTP/1.1\r\nHost: ${url.host}\r\nUser-Agent: ferry-loadgen\r\n` +
    (o.body ? `Content-Length: ${o.body.length}\r\n` : "") + (o.noKeepalive ? "Connection: close\r\n" : "") +
    "\r\n";
  const one = o.body ? concat([enc.encode(head), o.body]) : enc.encode(head);
  const pipeline = o.noKeepalive ? 1 : Math.max(1, o.pipeline);
  const batch = concat(Array(pipeline).fill(one));

  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const errors: Record<string, number> = {};
  const statuses: Record<string, number> = {};
  const fail = (kind: string) => errors[kind] = (errors[kind] ?? 0) + 1;
  let done = 0;
  let bytes = 0;
  let started = 0;
  const t0 = performance.now();
  const deadline = o.requests > 0 ? Infinity : t0 + o.duration * 1000;
  const more = () => performance.now() < deadline && (o.requests === 0 || started < o.requests);

  const connect = (): Promise<Deno.Conn> =>
    tls ? Deno.connectTls({ hostname, port }) : Deno.connect({ hostname, port }).then((c) => {
      c.setNoDelay(true);
      return c;
    });

  async function worker(): Promise<void> {
    let conn: Deno.Conn | undefined;
    let buf = new Uint8Array(64 * 1024);
    let start = 0;
    let end = 0;
    while (more()) {
      try {
        conn ??= await connect();
      } catch {
        fail("connect");
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      const want = o.requests > 0 ? Math.min(pipeline, o.requests - started) : pipeline;
      if (want <= 0) break;
      started += want;
      const sentAt = performance.now();
      try {
        await writeAll(conn, want === pipeline ? batch : concat(Array(want).fill(one)));
        let got = 0;
        let skip = 0; // body bytes still to discard for the current response
        while (got < want) {
          if (skip > 0) {
            const n = Math.min(skip, end - start);
            start += n;
            skip -= n;
            if (skip === 0) {
              got++;
              done++;
              histogram.recordValue(Math.max(1, Math.round((performance.now() - sentAt) * 1000)));
              continue;
            }
          } else if (end > start) {
            const he = headEnd(buf, start, end);
            if (he >= 0) {
              const status = (buf[start + 9] - 0x30) * 100 + (buf[start + 10] - 0x30) * 10 +
                (buf[start + 11] - 0x30);
              const cls = `${Math.floor(status / 100)}xx`;
              statuses[cls] = (statuses[cls] ?? 0) + 1;
              if (status >= 400) fail(`status ${cls}`);
              const f = framing(buf, start, he);
              if (f.chunked) {
                const n = chunkedLength(buf, he, end);
                if (n >= 0) {
                  bytes += he - start + n;
                  start = he + n;
                  got++;
                  done++;
                  histogram.recordValue(Math.max(1, Math.round((performance.now() - sentAt) * 1000)));
                  continue;
                }
              } else {
                const len = f.length < 0 ? 0 : f.length;
                bytes += he - start + len;
                start = he;
                skip = len;
                if (skip === 0) {
                  got++;
                  done++;
                  histogram.recordValue(Math.max(1, Math.round((performance.now() - sentAt) * 1000)));
                }
                continue;
              }
            }
          }
          // Need more bytes.
          if (start === end) start = end = 0;
          else if (end === buf.length) {
            if (start > 0) {
              buf.copyWithin(0, start, end);
              end -= start;
              start = 0;
            } else {
              const grown = new Uint8Array(buf.length * 2);
              grown.set(buf.subarray(0, end));
              buf = grown;
            }
          }
          const n = await readWithTimeout(conn, buf.subarray(end), o.timeout * 1000);
          if (n === null) throw new Error("closed");
          end += n;
        }
        if (o.noKeepalive) {
          conn.close();
          conn = undefined;
          start = end = 0;
        }
      } catch (e) {
        fail(
          e instanceof Error && e.message === "timeout"
            ? "timeout"
            : e instanceof Error && e.message === "closed"
            ? "closed"
            : "read/write",
        );
        try {
          conn?.close();
        } catch {
          // closed
        }
        conn = undefined;
        start = end = 0;
      }
    }
    try {
      conn?.close();
    } catch {
      // closed
    }
  }

  const ticker = onTick ? setInterval(() => onTick(done, (performance.now() - t0) / 1000), 200) : undefined;
  await Promise.all(Array.from({ length: o.connections }, worker));
  clearInterval(ticker);
  const seconds = (performance.now() - t0) / 1000;
  onTick?.(done, seconds);
  const ms = (p: number) => histogram.getValueAtPercentile(p) / 1000;
  return {
    requests: done,
    seconds,
    requestsPerSecond: done / seconds,
    bytesPerSecond: bytes / seconds,
    latencyMs: { p50: ms(50), p90: ms(90), p99: ms(99), max: histogram.maxValue / 1000 },
    errors,
    statuses,
  };
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

function readWithTimeout(conn: Deno.Conn, into: Uint8Array, ms: number): Promise<number | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) =>
    timer = setTimeout(() => reject(new Error("timeout")), ms)
  );
  return Promise.race([conn.read(into), timeout]).finally(() => clearTimeout(timer));
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function positive(v: string): number {
  if (!/^\d+(\.\d+)?$/.test(v) || Number(v) < 0) throw new InvalidArgumentError("expected a number >= 0");
  return Number(v);
}

/** Formats a result as the table printed at the end of a run. */
export function table(r: LoadResult): string {
  const rows = [
    ["requests", String(r.requests)],
    ["duration", `${r.seconds.toFixed(2)} s`],
    ["requests/s", r.requestsPerSecond.toFixed(0)],
    ["bytes/s", `${(r.bytesPerSecond / 1048576).toFixed(2)} MiB`],
    ["latency p50", `${r.latencyMs.p50.toFixed(3)} ms`],
    ["latency p90", `${r.latencyMs.p90.toFixed(3)} ms`],
    ["latency p99", `${r.latencyMs.p99.toFixed(3)} ms`],
    ["latency max", `${r.latencyMs.max.toFixed(3)} ms`],
    ["statuses", Object.entries(r.statuses).map(([k, v]) => `${k}: ${v}`).join(", ") || "none"],
    ["errors", Object.entries(r.errors).map(([k, v]) => `${k}: ${v}`).join(", ") || "none"],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n");
}

if (import.meta.main) {
  const program = new Command("loadgen")
    .requiredOption("--url <url>", "target URL (http or https)")
    .option("--connections <n>", "concurrent connections", positive, 50)
    .option("--duration <s>", "seconds to run", positive, 10)
    .option("--requests <n>", "total requests instead of a duration", positive, 0)
    .option("--pipeline <n>", "requests per connection sent back to back", positive, 1)
    .option("--no-keepalive", "a new connection for every request")
    .option("--method <method>", "request method", "GET")
    .option("--body-file <file>", "request body")
    .option("--insecure", "accept any TLS certificate (self-signed ferry)")
    .option("--timeout <s>", "seconds without progress before a request times out", positive, 10)
    .option("--h3", "HTTP/3 over QUIC (--pipeline: streams in flight per connection)")
    .option("--ca-cert <file>", "PEM certificate to trust (HTTP/3: --insecure does not reach QUIC)")
    .option("--json", "print the result as JSON")
    .option("--no-progress", "no progress bar");
  program.parse(Deno.args, { from: "user" });
  const f = program.opts();

  // Deno checks certificates for every TLS connection; the flag that stops that is the runtime's,
  // so --insecure re-runs this script with it, scoped to the target host.
  if (f.insecure && Deno.env.get("FERRY_LOADGEN_INSECURE") !== "1") {
    const host = new URL(f.url).hostname.replace(/^\[|\]$/g, "");
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-read",
        "--allow-env",
        "--unstable-net",
        `--unsafely-ignore-certificate-errors=${host}`,
        new URL(import.meta.url).pathname,
        ...Deno.args,
      ],
      env: { FERRY_LOADGEN_INSECURE: "1" },
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    Deno.exit((await child.status).code);
  }

  const options: LoadOptions = {
    url: f.url,
    connections: Math.max(1, Math.floor(f.connections)),
    duration: f.duration,
    requests: Math.floor(f.requests),
    pipeline: Math.max(1, Math.floor(f.pipeline)),
    noKeepalive: f.keepalive === false,
    method: f.method,
    body: f.bodyFile ? await Deno.readFile(f.bodyFile) : undefined,
    timeout: f.timeout,
  };
  const showBar = f.progress !== false && Deno.stderr.isTerminal();
  const bar = showBar
    ? new cliProgress.SingleBar({
      format: "{bar} {percentage}% | {value}/{total} {unit} | {rps} req/s",
      hideCursor: true,
    }, cliProgress.Presets.shades_classic)
    : undefined;
  const total = options.requests > 0 ? options.requests : Math.round(options.duration);
  bar?.start(total, 0, { unit: options.requests > 0 ? "requests" : "s", rps: 0 });
  const tick = (done: number, elapsed: number) => {
    bar?.update(options.requests > 0 ? done : Math.min(total, Math.round(elapsed)), {
      rps: Math.round(done / Math.max(elapsed, 0.001)),
    });
  };
  const caCerts = f.caCert ? [await Deno.readTextFile(f.caCert)] : undefined;
  const result = f.h3 ? await runH3({ ...options, caCerts }, tick) : await run(options, tick);
  bar?.stop();
  console.log(f.json ? JSON.stringify(result, null, 2) : table(result));
}
