/**
 * Runs the traffic matrix (`traffic_matrix.ts`): every shape over every transport, against ferry
 * started as users start it (`main.ts` with the start task's permissions), the client on
 * `/usr/bin/python3` (`traffic_client.py`), or over HTTP/3 Deno's own QUIC client in this process
 * (`traffic_client_h3.ts`). The proxy columns talk to a second ferry that proxies every path to
 * the first (`--proxy /=`). Memory is the resident set of the ferry the client talks to, sampled
 * while a hostile client holds its shape.
 */

import assert from "assert";
import { type ChildServer, rssOf, startChild } from "../helpers/server.ts";
import {
  type RowContext,
  type Shape,
  SHAPES,
  TIMEOUTS,
  type Transport,
  TRANSPORTS,
} from "./traffic_matrix.ts";
import { runH3Shape } from "./traffic_client_h3.ts";
import { missing, needs } from "../helpers/needs.ts";

const CLIENT = new URL("./traffic_client.py", import.meta.url).pathname;
const APP = new URL("./fixtures/traffic_app.ts", import.meta.url).pathname;
/** How long memory is sampled while a client holds its shape. */
const HOLD_MS = 1500;
/** Whether this run has Deno's QUIC (`--unstable-net`): without it the HTTP/3 column is skipped. */
const HAS_QUIC = typeof (Deno as { QuicEndpoint?: unknown }).QuicEndpoint === "function";
const TIMEOUT_FLAGS = [
  ...["--body-timeout", String(TIMEOUTS.bodyTimeout)],
  ...["--min-body-rate", String(TIMEOUTS.minBodyRate)],
];

/** One ferry process and its ports. */
interface Ferry {
  child: ChildServer;
  ports: Record<string, number>;
}

/** What a row runs against: the matrix's ferry, and (started once a proxy column needs it) its proxy. */
interface Setup {
  origin: Ferry;
  proxy: Promise<Ferry> | undefined;
  ca: string;
  dir: string;
}

async function startFerry(args: string[]): Promise<Ferry> {
  const child = await startChild([...args, "--log-format", "none", ...TIMEOUT_FLAGS], 2);
  const ports: Record<string, number> = {};
  for (const u of child.urls) ports[u.startsWith("https") ? "https" : "http"] = Number(new URL(u).port);
  return { child, ports };
}

/**
 * A ferry with both listeners, h2c, HTTP/3 (when this run has QUIC), the matrix's app and a
 * static root with a 1 MB and a 4 KiB file.
 */
async function ferry(): Promise<Setup> {
  const dir = await Deno.makeTempDir({ prefix: "ferry-matrix-" });
  await Deno.mkdir(`${dir}/root`);
  await Deno.writeFile(`${dir}/root/1m.bin`, new Uint8Array(1_000_000).fill(0x73));
  await Deno.writeFile(`${dir}/root/4k.bin`, new Uint8Array(4 * 1024).fill(0x73));
  const origin = await startFerry([
    ...["--port", "0", "--https-port", "0", "--h2c", "--cert-dir", `${dir}/certs`],
    ...(HAS_QUIC ? ["--http3"] : []),
    ...["--app", APP, "--root", `${dir}/root`],
  ]);
  return { origin, proxy: undefined, ca: `${dir}/certs/localhost-cert.pem`, dir };
}

/** The ferry a column talks to: for a proxy column, one proxying every path to the origin. */
async function target(s: Setup, t: Transport): Promise<Ferry> {
  if (!t.proxied) return s.origin;
  // The same certificate directory: the origin made the certificate, the proxy reuses it.
  s.proxy ??= startFerry([
    ...["--port", "0", "--https-port", "0", "--cert-dir", `${s.dir}/certs`],
    ...["--proxy", `/=127.0.0.1:${s.origin.ports.http}`],
  ]);
  return await s.proxy;
}

/** Runs one shape's client; `held` runs once the client says its shape is in place. */
async function client(
  shape: string,
  t: Transport,
  port: number,
  ca: string,
  params: Record<string, unknown>,
  held?: () => Promise<void>,
): Promise<Record<string, unknown>> {
  if (t.proto === "h3") return await runH3Shape(shape, port, ca, params, held);
  const proc = new Deno.Command("/usr/bin/python3", {
    args: [CLIENT, shape, t.proto, String(port), t.listener === "https" ? ca : "-", JSON.stringify(params)],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const errText = new Response(proc.stderr).text();
  const stdin = proc.stdin.getWriter();
  const lines = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let last: Record<string, unknown> | undefined;
  try {
    for (;;) {
      const { value, done } = await lines.read();
      if (done) break;
      text += value;
      let nl;
      while ((nl = text.indexOf("\n")) >= 0) {
        const line = JSON.parse(text.slice(0, nl));
        text = text.slice(nl + 1);
        if (line.ready === true) {
          await held?.();
          await stdin.write(new TextEncoder().encode("\n"));
        } else last = line;
      }
    }
  } finally {
    await stdin.close().catch(() => {});
  }
  const status = await proc.status;
  assert.equal(status.code, 0, `traffic_client.py ${shape} ${t.proto}: ${await errText}`);
  assert.ok(last !== undefined, `traffic_client.py ${shape} ${t.proto} printed no result`);
  return last;
}

/** The most RSS seen over `ms`. */
async function peakRss(pid: number, ms: number): Promise<number> {
  let peak = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    peak = Math.max(peak, await rssOf(pid).catch(() => 0));
    await new Promise((r) => setTimeout(r, 25));
  }
  return peak;
}

/** A fresh request on a new connection of the same transport: its status. */
async function fresh(t: Transport, port: number, ca: string): Promise<number> {
  const out = await client("keepalive", t, port, ca, { first: "cookie", bytes: 10, n: 0 });
  return out.first as number;
}

/** The counters a row reads from a ferry's `/_metrics`. */
async function counters(f: Ferry, t: Transport) {
  const res = await fetch(`http://127.0.0.1:${f.ports.http}/_metrics`);
  const m = await res.json();
  const sum = (by: Record<string, Record<string, number>> | undefined) =>
    Object.values(by ?? {}).flatMap((targets) => Object.values(targets)).reduce((a, b) => a + b, 0);
  const streams = t.proto === "h3" ? m.http3.streams_total : m.http2.streams_total;
  return {
    bytesOut: m.bytes_out as number,
    streams: streams as number,
    calm: (m.http2.goaways_sent.ENHANCE_YOUR_CALM ?? 0) as number,
    upstreamActive: sum(m.upstreams?.active),
    upstreamFailures: sum(m.upstreams?.failures),
  };
}

async function runRow(row: Shape, t: Transport, setup?: Setup): Promise<void> {
  const s = setup ?? await ferry();
  try {
    const f = await target(s, t);
    const port = f.ports[t.listener];
    const pid = f.child.child.pid;
    const params = { ...row.params, ...row.tuned?.(t) };
    const ctx: RowContext = {
      transport: t,
      rss: { before: 0, peak: 0 },
      fresh: 0,
      streams: 0,
      calm: 0,
      sent: 0,
    };
    const failuresBefore = t.proxied ? (await counters(f, t)).upstreamFailures : 0;
    if (row.hold === "measure") {
      assert.equal(await fresh(t, port, s.ca), 200); // the code is warm
      await client("keepalive", t, port, s.ca, { first: "cookie", bytes: 1, n: 0, path: params.path });
      ctx.rss.before = await rssOf(pid);
      const before = await counters(f, t);
      ctx.streams = -before.streams;
      ctx.calm = -before.calm;
    }
    const sentBefore = row.hold === "sigterm" ? 0 : (await counters(s.origin, t)).bytesOut;
    const out = await client(row.shape, t, port, s.ca, params, async () => {
      if (row.hold === "measure") ctx.rss.peak = await peakRss(pid, HOLD_MS);
      else if (row.hold === "sigterm") f.child.child.kill("SIGTERM");
    });
    if (row.hold === "measure") {
      ctx.rss.peak = Math.max(ctx.rss.peak, await rssOf(pid));
      const after = await counters(f, t);
      ctx.streams += after.streams;
      ctx.calm += after.calm;
      ctx.fresh = await fresh(t, port, s.ca);
      const grew = ((ctx.rss.peak - ctx.rss.before) / 2 ** 20).toFixed(1);
      console.log(`${row.shape} over ${t.name}: RSS +${grew} MiB, ${ctx.streams} streams served`);
    }
    // Every upstream request the proxy began has ended: nothing hangs on a client that went away.
    let c = row.hold === "sigterm" ? undefined : await counters(f, t);
    for (let i = 0; t.proxied && c !== undefined && c.upstreamActive !== 0 && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 50));
      c = await counters(f, t);
    }
    if (row.hold !== "sigterm") ctx.sent = (await counters(s.origin, t)).bytesOut - sentBefore;
    row.check(out, ctx);
    if (row.hold === "sigterm") assert.equal((await f.child.status).code, 0);
    else if (t.proxied) {
      assert.equal(c!.upstreamActive, 0, "upstream requests still open after the shape");
      assert.equal(c!.upstreamFailures - failuresBefore, 0, "the upstream was blamed for a client");
    }
  } finally {
    if (setup === undefined) await stop(s);
  }
}

async function stop(s: Setup): Promise<void> {
  if (s.proxy !== undefined) await (await s.proxy).child[Symbol.asyncDispose]();
  await s.origin.child[Symbol.asyncDispose]();
  await Deno.remove(s.dir, { recursive: true }).catch(() => {});
}

if (!HAS_QUIC && missing("read", "write", "run").length === 0) {
  console.warn("SKIPPED: the traffic matrix's HTTP/3 column needs --unstable-net (deno task test has it)");
}

for (const row of SHAPES) {
  Deno.test(`traffic matrix: ${row.name}`, needs("read", "write", "run"), async (t) => {
    // One server (and proxy) for the row's columns, but for shapes that stop it.
    const shared = row.hold === "sigterm" ? undefined : await ferry();
    try {
      const steps = [];
      for (const transport of TRANSPORTS) {
        if (row.applies !== undefined && !row.applies(transport)) continue;
        // HTTP/3 needs Deno's QUIC: a run without --unstable-net skips it.
        const ignore = transport.proto === "h3" && !HAS_QUIC;
        const step = t.step({
          name: transport.name,
          ignore,
          fn: () => runRow(row, transport, shared),
          // Steps at once must leave the sanitizers to the test.
          ...(row.together ? { sanitizeOps: false, sanitizeResources: false, sanitizeExit: false } : {}),
        });
        if (row.together) steps.push(step);
        else await step;
      }
      await Promise.all(steps);
    } finally {
      if (shared !== undefined) await stop(shared);
    }
  });
}
