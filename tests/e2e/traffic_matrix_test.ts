/**
 * Runs the traffic matrix (`traffic_matrix.ts`): every shape over every transport, against ferry
 * started as users start it (`main.ts` with the start task's permissions), the client on
 * `/usr/bin/python3` (`traffic_client.py`). Memory is ferry's resident set, sampled while a
 * hostile client holds its shape.
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
import { needs } from "../helpers/needs.ts";

const CLIENT = new URL("./traffic_client.py", import.meta.url).pathname;
const APP = new URL("./fixtures/traffic_app.ts", import.meta.url).pathname;
/** How long memory is sampled while a client holds its shape. */
const HOLD_MS = 1500;

/** A ferry with both listeners, h2c, the matrix's app and a static root with a 256 KiB file. */
async function ferry(): Promise<
  { child: ChildServer; ports: Record<string, number>; ca: string; dir: string }
> {
  const dir = await Deno.makeTempDir({ prefix: "ferry-matrix-" });
  await Deno.mkdir(`${dir}/root`);
  await Deno.writeFile(`${dir}/root/1m.bin`, new Uint8Array(1_000_000).fill(0x73));
  await Deno.writeFile(`${dir}/root/4k.bin`, new Uint8Array(4 * 1024).fill(0x73));
  const child = await startChild([
    ...["--port", "0", "--https-port", "0", "--h2c", "--cert-dir", `${dir}/certs`],
    ...["--app", APP, "--root", `${dir}/root`, "--log-format", "none"],
    ...["--body-timeout", String(TIMEOUTS.bodyTimeout), "--min-body-rate", String(TIMEOUTS.minBodyRate)],
  ], 2);
  const ports: Record<string, number> = {};
  for (const u of child.urls) ports[u.startsWith("https") ? "https" : "http"] = Number(new URL(u).port);
  return { child, ports, ca: `${dir}/certs/localhost-cert.pem`, dir };
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

async function runRow(row: Shape, t: Transport, server?: Awaited<ReturnType<typeof ferry>>): Promise<void> {
  const own = server === undefined;
  const s = server ?? await ferry();
  try {
    const port = s.ports[t.listener];
    const pid = s.child.child.pid;
    const ctx: RowContext = { transport: t, rss: { before: 0, peak: 0 }, fresh: 0, streams: 0, calm: 0 };
    const h2 = async () => {
      const res = await fetch(`http://127.0.0.1:${s.ports.http}/_metrics`);
      const m = (await res.json()).http2;
      return { streams: m.streams_total as number, calm: (m.goaways_sent.ENHANCE_YOUR_CALM ?? 0) as number };
    };
    if (row.hold === "measure") {
      assert.equal(await fresh(t, port, s.ca), 200); // the code is warm
      await client("keepalive", t, port, s.ca, { first: "cookie", bytes: 1, n: 0, path: row.params.path });
      ctx.rss.before = await rssOf(pid);
      const before = await h2();
      ctx.streams = -before.streams;
      ctx.calm = -before.calm;
    }
    const out = await client(row.shape, t, port, s.ca, row.params, async () => {
      if (row.hold === "measure") ctx.rss.peak = await peakRss(pid, HOLD_MS);
      else if (row.hold === "sigterm") s.child.child.kill("SIGTERM");
    });
    if (row.hold === "measure") {
      ctx.rss.peak = Math.max(ctx.rss.peak, await rssOf(pid));
      const after = await h2();
      ctx.streams += after.streams;
      ctx.calm += after.calm;
      ctx.fresh = await fresh(t, port, s.ca);
    }
    if (row.hold === "measure") {
      const grew = ((ctx.rss.peak - ctx.rss.before) / 2 ** 20).toFixed(1);
      console.log(`${row.shape} over ${t.name}: RSS +${grew} MiB, ${ctx.streams} HTTP/2 streams served`);
    }
    row.check(out, ctx);
    if (row.hold === "sigterm") assert.equal((await s.child.status).code, 0);
  } finally {
    if (own) await stop(s);
  }
}

async function stop(s: Awaited<ReturnType<typeof ferry>>): Promise<void> {
  await s.child[Symbol.asyncDispose]();
  await Deno.remove(s.dir, { recursive: true }).catch(() => {});
}

for (const row of SHAPES) {
  Deno.test(`traffic matrix: ${row.name}`, needs("read", "write", "run"), async (t) => {
    // One server for the row's columns, but for shapes that stop it.
    const shared = row.hold === "sigterm" ? undefined : await ferry();
    try {
      for (const transport of TRANSPORTS) {
        if (row.applies !== undefined && !row.applies(transport)) continue;
        await t.step(transport.name, () => runRow(row, transport, shared));
      }
    } finally {
      if (shared !== undefined) await stop(shared);
    }
  });
}
