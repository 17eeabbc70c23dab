/**
 * The known HTTP/2 attacks, each driven by a real client (Python's h2, or raw frames), each
 * ending bounded: GOAWAY ENHANCE_YOUR_CALM (or PROTOCOL_ERROR) and a counter, while the server
 * keeps serving others. Also flow control both ways and a stalled stream that holds no other.
 */

import assert from "assert";
import { startServer, until } from "../helpers/server.ts";
import type { Handler } from "../../src/mod.ts";
import { Client, concat, exchange, FLAG, FRAME, frame, get, PREFACE } from "./frame_kit.ts";
import { needs } from "../helpers/needs.ts";

const PEER = new URL("./h2_peer.py", import.meta.url).pathname;
const BIG = 3 << 20;

const handler: Handler = async (req, res) => {
  if (req.path === "/big") {
    res.writeHead(200, [["content-type", "application/octet-stream"]], BIG);
    const chunk = new Uint8Array(64 * 1024).fill(98);
    for (let sent = 0; sent < BIG; sent += chunk.length) await res.write(chunk);
    await res.end();
  } else if (req.path === "/slow") {
    await new Promise((r) => setTimeout(r, 100));
    await res.send(200, [], "slow\n");
  } else if (req.path === "/echo") {
    let n = 0;
    for await (const c of req.body) n += c.length;
    await res.send(200, [], String(n));
  } else {
    await res.send(200, [["content-type", "text/plain"]], "ok\n");
  }
};

async function peer(port: number, scenario: string, n = 1000): Promise<Record<string, unknown>> {
  const o = await new Deno.Command("/usr/bin/python3", {
    args: [PEER, scenario, String(port), String(n)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(o.code, 0, new TextDecoder().decode(o.stderr));
  return JSON.parse(new TextDecoder().decode(o.stdout));
}

function server(opts: Parameters<typeof startServer>[0] = {}) {
  return startServer({ h2c: true, handler, ...opts });
}

/** A GET answered on a new connection: the server still serves. */
async function stillServes(port: number): Promise<void> {
  const c = new Client();
  const { frames } = await exchange(
    port,
    concat([c.start(), c.headers(1, get())]),
    (fs) => fs.some((f) => f.type === FRAME.DATA && (f.flags & FLAG.END_STREAM) !== 0),
  );
  assert.ok(frames.some((f) => f.type === FRAME.HEADERS && f.stream === 1), "a new connection is served");
}

const EYC = 0xb;

Deno.test(
  "h2 attack: Rapid Reset (CVE-2023-44487) ends with GOAWAY ENHANCE_YOUR_CALM, counted",
  needs("read", "run"),
  async () => {
    await using s = await server();
    const out = await peer(s.port, "rapid_reset", 1000);
    assert.equal(out.goaway, EYC);
    assert.ok(s.server.stats.h2Limits.get("rapid_reset")! >= 1);
    assert.ok(s.server.stats.h2ResetsReceived <= 401);
    await stillServes(s.port);
  },
);

Deno.test(
  "h2 attack: MadeYouReset (CVE-2025-8671): resets the server sends count too",
  needs("read", "run"),
  async () => {
    await using s = await server();
    const out = await peer(s.port, "made_you_reset", 1000);
    assert.equal(out.goaway, EYC);
    assert.ok(s.server.stats.h2Limits.get("rapid_reset")! >= 1);
    assert.ok((s.server.stats.h2ResetsSent.get("PROTOCOL_ERROR") ?? 0) <= 400);
    await stillServes(s.port);
  },
);

Deno.test(
  "h2 attack: PING flood (CVE-2019-9512) and SETTINGS flood (CVE-2019-9515) end with GOAWAY",
  needs("read", "run"),
  async () => {
    await using s = await server();
    assert.equal((await peer(s.port, "ping_flood", 2000)).goaway, EYC);
    assert.equal(s.server.stats.h2Limits.get("ping_flood"), 1);
    assert.equal((await peer(s.port, "settings_flood", 2000)).goaway, EYC);
    assert.equal(s.server.stats.h2Limits.get("settings_flood"), 1);
    await stillServes(s.port);
  },
);

Deno.test("h2 attack: a control flood from a peer that never reads is cut off", async () => {
  await using s = await server();
  const c = new Client();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  // PINGs whose answers pile up unread: each batch is within the rate budget's reach only by
  // volume of unread answers (the budget would also stop it; either bound ends it).
  const pings = concat(Array.from({ length: 400 }, () => c.ping()));
  await conn.write(c.start());
  for (let i = 0; i < 200; i++) {
    if (await conn.write(pings).then(() => false, () => true)) break;
  }
  const ev = s.server.stats.h2Limits;
  await until(() => (s.server.stats.h2Goaways.get("ENHANCE_YOUR_CALM") ?? 0) >= 1, "the flood cut off");
  conn.close();
  assert.equal((ev.get("control_flood") ?? 0) + (ev.get("ping_flood") ?? 0), 1);
  await stillServes(s.port);
});

Deno.test("h2 attack: CONTINUATION flood (CVE-2024-27316) is refused before the block is buffered", async () => {
  await using s = await server();
  const c = new Client();
  const block = c.block(get());
  const conts = Array.from({ length: 200 }, () => frame(FRAME.CONTINUATION, 0, 1, new Uint8Array(1000)));
  const bytes = concat([c.start(), frame(FRAME.HEADERS, FLAG.END_STREAM, 1, block), ...conts]);
  const { frames } = await exchange(s.port, bytes, (fs) => fs.some((f) => f.type === FRAME.GOAWAY));
  assert.equal(frames.find((f) => f.type === FRAME.GOAWAY)?.code, EYC);
  assert.equal(s.server.stats.h2Limits.get("continuation_flood"), 1);
  // Empty CONTINUATION frames, endlessly: bounded by count.
  const empties = Array.from({ length: 100 }, () => frame(FRAME.CONTINUATION, 0, 1, []));
  const r2 = await exchange(
    s.port,
    concat([new Client().start(), frame(FRAME.HEADERS, FLAG.END_STREAM, 1, block), ...empties]),
    (fs) => fs.some((f) => f.type === FRAME.GOAWAY),
  );
  assert.equal(r2.frames.find((f) => f.type === FRAME.GOAWAY)?.code, EYC);
});

Deno.test("h2 attack: HPACK bomb: the request is refused with 431, never answered by the app", async () => {
  let served = 0;
  await using s = await server({
    handler: async (_req, res) => {
      served++;
      await res.send(200, [], "x");
    },
  });
  // A 4000-octet entry, then references to it: 16 KiB encoded, 40 MB decoded if unbounded.
  const name = new TextEncoder().encode("x-big");
  const insert = [0x40, 0x05, ...name, 0x7f, 0xbd, 0x1d, ...new Array(3900).fill(0x61)];
  const refs = new Array(12000).fill(0xbe);
  const c = new Client();
  const head = [...c.block(get())];
  const block = [...head, ...insert, ...refs];
  const frames = [frame(FRAME.HEADERS, FLAG.END_STREAM, 1, block.slice(0, 16384))];
  frames.push(frame(FRAME.CONTINUATION, FLAG.END_HEADERS, 1, block.slice(16384)));
  const { frames: got } = await exchange(
    s.port,
    concat([c.start(), ...frames, c.ping()]),
    (fs) => fs.some((f) => f.type === FRAME.PING),
  );
  const h = got.find((f) => f.type === FRAME.HEADERS && f.stream === 1);
  assert.equal(h?.fields?.[0]?.[1], "431");
  assert.equal(served, 0);
  assert.equal(s.server.stats.h2Limits.get("headers_too_large"), 1);
});

Deno.test("h2 attack: a peer that never sends its preface is closed after --header-timeout", async () => {
  await using s = await server({ headerTimeout: 1 });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  await conn.write(PREFACE.subarray(0, 10));
  const buf = new Uint8Array(1024);
  let n: number | null = 0;
  while (n !== null) n = await conn.read(buf).catch(() => null);
  conn.close();
  assert.equal(s.server.stats.timeouts.get("header"), 1);
  // A preface and nothing more: closed the same way.
  const c2 = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  await c2.write(PREFACE);
  n = 0;
  while (n !== null) n = await c2.read(buf).catch(() => null);
  c2.close();
  assert.equal(s.server.stats.timeouts.get("header"), 2);
});

Deno.test(
  "h2 flow control: a stream stalled at a zero window is reset after --body-timeout; another finishes",
  needs("read", "run"),
  async () => {
    await using s = await server({ bodyTimeout: 1 });
    const out = await peer(s.port, "zero_window");
    assert.deepEqual(out.resets, { "1": 8 }); // CANCEL
    assert.equal((out.bytes as Record<string, number>)["3"], BIG);
    assert.equal(s.server.stats.h2Limits.get("stalled"), 1);
  },
);

Deno.test(
  "h2 flow control: 3 MB down and 3 MB up on one connection under the windows",
  needs("read", "run"),
  async () => {
    await using s = await server();
    const out = await peer(s.port, "flow");
    const bytes = out.bytes as Record<string, number>;
    assert.equal(bytes["1"], BIG);
    assert.equal(out.sent, BIG);
    assert.equal(out.goaway, null);
    assert.ok((out.ended as number[]).includes(3));
  },
);

Deno.test(
  "h2 limits: streams over --h2-max-streams are refused (REFUSED_STREAM), the others answered",
  needs("read", "run"),
  async () => {
    await using s = await server({
      h2MaxStreams: 10,
      handler: async (_req, res) => {
        await new Promise((r) => setTimeout(r, 50));
        await res.send(200, [], "x");
      },
    });
    const out = await peer(s.port, "many", 30);
    const resets = Object.values(out.resets as Record<string, number>);
    assert.ok(resets.length > 0 && resets.every((c) => c === 7), JSON.stringify(out.resets));
    assert.equal(Object.keys(out.responses as object).length + resets.length, 30);
    assert.equal(out.goaway, null);
  },
);

Deno.test("h2 limits: an idle connection gets GOAWAY NO_ERROR after --keepalive-timeout, then closes", async () => {
  await using s = await server({ keepaliveTimeout: 0.3 });
  const c = new Client();
  const { frames, closed } = await exchange(s.port, concat([c.start(), c.headers(1, get())]), () => false);
  const goaway = frames.find((f) => f.type === FRAME.GOAWAY);
  assert.equal(goaway?.code, 0);
  assert.equal(goaway?.last, 1);
  assert.ok(closed);
  assert.equal(s.server.stats.timeouts.get("keepalive"), 1);
});

Deno.test("h2 limits: a request body that stops coming is reset after --body-timeout; the connection stays", async () => {
  await using s = await server({ bodyTimeout: 0.5 });
  const c = new Client();
  const post: Array<[string, string]> = [[":method", "POST"], [":scheme", "http"], [":path", "/echo"]];
  const { frames } = await exchange(
    s.port,
    concat([c.start(), c.headers(1, post, { end: false }), c.data(1, [1, 2])]),
    (fs) => fs.some((f) => f.type === FRAME.RST_STREAM),
  );
  assert.equal(frames.find((f) => f.type === FRAME.RST_STREAM)?.code, 8);
  assert.equal(frames.some((f) => f.type === FRAME.GOAWAY), false);
  assert.equal(s.server.stats.timeouts.get("body"), 1);
});

Deno.test("h2 attack: a flood of empty DATA frames (CVE-2019-9518) ends with GOAWAY ENHANCE_YOUR_CALM", async () => {
  await using s = await server();
  const c = new Client();
  const post: Array<[string, string]> = [[":method", "POST"], [":scheme", "http"], [":path", "/echo"]];
  const empties = Array.from({ length: 1000 }, () => c.data(1, []));
  const { frames } = await exchange(
    s.port,
    concat([c.start(), c.headers(1, post, { end: false }), ...empties]),
    (fs) => fs.some((f) => f.type === FRAME.GOAWAY),
  );
  assert.equal(frames.find((f) => f.type === FRAME.GOAWAY)?.code, EYC);
  assert.equal(s.server.stats.h2Limits.get("empty_frames"), 1);
});
