/**
 * WebSockets on ferry with independent clients: Deno's own `WebSocket`, the npm `ws` client
 * (permessage-deflate, pings), a Hono app using `upgradeWebSocket` from `hono/deno`, raw sockets
 * for the handshake refusals, and the server's side: a throwing listener, `--max-connections`,
 * pings to a silent peer, 1001 at shutdown, and the metrics.
 */

import assert from "assert";
import { wsClient } from "../helpers/ws_client.ts";
import { Hono } from "hono";
import { upgradeWebSocket as honoUpgrade } from "hono/deno";
import { startServer, until } from "../helpers/server.ts";
import { fetchHandler } from "../../src/app/fetch.ts";
import { exchange } from "../helpers/client.ts";
import { clientFrame, handshake, openRaw } from "../helpers/ws_frames.ts";
import echoApp from "../ws/echo_app.ts";
import { makeSelfSigned } from "../../src/tls/cert.ts";
import { needs } from "../helpers/needs.ts";

/** Opens a Deno WebSocket and collects what it receives. */
async function denoSocket(url: string, protocols?: string[]) {
  const ws = new WebSocket(url, protocols);
  ws.binaryType = "arraybuffer";
  const messages: unknown[] = [];
  const closed = new Promise<CloseEvent>((r) => ws.onclose = r);
  ws.onmessage = (e) => messages.push(e.data);
  await new Promise<void>((ok, fail) => {
    ws.onopen = () => ok();
    ws.onerror = (e) => fail(new Error(`WebSocket error: ${(e as ErrorEvent).message}`));
  });
  return { ws, messages, closed };
}

Deno.test("websocket: Deno's WebSocket client exchanges text, binary and a large message", async () => {
  await using s = await startServer({ handler: fetchHandler(echoApp) });
  const { ws, messages, closed } = await denoSocket(`ws://127.0.0.1:${s.port}/echo`);
  ws.send("hello");
  ws.send(new Uint8Array([1, 2, 3]));
  ws.send("x".repeat(200_000));
  await until(() => messages.length === 3, "three echoes");
  assert.equal(messages[0], "hello");
  assert.deepEqual(new Uint8Array(messages[1] as ArrayBuffer), new Uint8Array([1, 2, 3]));
  assert.equal(messages[2], "x".repeat(200_000));
  ws.close(1000, "done");
  const e = await closed;
  assert.equal(e.code, 1000);
  assert.equal(e.wasClean, true);
  await until(() => s.server.stats.wsOpen === 0, "the server saw the close");
  assert.equal(s.server.stats.wsCloses.get("1000"), 1);
  assert.equal(s.server.stats.wsMessagesIn, 3);
});

Deno.test("websocket: the server closes with its code and reason; a subprotocol is agreed", async () => {
  await using s = await startServer({ handler: fetchHandler(echoApp) });
  const { ws, closed } = await denoSocket(`ws://127.0.0.1:${s.port}/protocol`, ["chat", "superchat"]);
  assert.equal(ws.protocol, "superchat");
  ws.send("close-me");
  const e = await closed;
  assert.equal(e.code, 4001);
  assert.equal(e.reason, "asked to");
});

Deno.test("websocket: bufferedAmount counts what send has not written yet", async () => {
  await using s = await startServer({ handler: fetchHandler(echoApp) });
  const { ws, messages, closed } = await denoSocket(`ws://127.0.0.1:${s.port}/`);
  ws.send("buffered?");
  await until(() => messages.length === 2, "the big message and the report");
  assert.equal((messages[0] as ArrayBuffer).byteLength, 512 * 1024);
  const reported = Number(String(messages[1]).split(" ")[1]);
  assert.ok(reported >= 512 * 1024, `bufferedAmount right after sending 512 KiB: ${reported}`);
  ws.close();
  await closed;
});

Deno.test(
  "websocket: the npm ws client agrees permessage-deflate, and compressed messages round-trip",
  needs("env"),
  async () => {
    await using s = await startServer({ handler: fetchHandler(echoApp) });
    const ws = new (await wsClient())(`ws://127.0.0.1:${s.port}/`, { perMessageDeflate: true });
    const got: Array<{ data: Buffer; binary: boolean }> = [];
    const pongs: string[] = [];
    ws.on("message", (data: Buffer, binary: boolean) => got.push({ data, binary }));
    ws.on("pong", (data: Buffer) => pongs.push(data.toString()));
    await new Promise<void>((ok, fail) => {
      ws.on("open", () => ok());
      ws.on("error", fail);
    });
    assert.match(ws.extensions, /permessage-deflate/);
    const long = "compress me please. ".repeat(500);
    ws.send(long);
    ws.send(Buffer.from(new Uint8Array(5000).fill(7)));
    ws.ping("are you there");
    await until(() => got.length === 2 && pongs.length === 1, "two echoes and a pong");
    assert.equal(got[0].data.toString(), long);
    assert.equal(got[0].binary, false);
    assert.equal(got[1].data.length, 5000);
    assert.equal(got[1].binary, true);
    assert.deepEqual(pongs, ["are you there"]);
    // The wire carried fewer bytes than the messages: they were compressed both ways.
    assert.ok(s.server.stats.wsBytesIn < long.length, "the client's message arrived compressed");
    const code = new Promise<number>((r) => ws.on("close", (c: number) => r(c)));
    ws.close(1000);
    assert.equal(await code, 1000);
  },
);

Deno.test("websocket: --no-ws-deflate declines the extension", async () => {
  await using s = await startServer({ handler: fetchHandler(echoApp), wsDeflate: false });
  using raw = await openRaw(s.port, "/", [
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
  ]);
  assert.doesNotMatch(raw.head, /sec-websocket-extensions/i);
});

Deno.test("websocket: a Hono app with upgradeWebSocket from hono/deno runs unchanged", async () => {
  const app = new Hono();
  app.get("/", (c) => c.text("hono"));
  app.get(
    "/ws",
    honoUpgrade(() => ({
      onMessage(event, ws) {
        ws.send(`hono says ${event.data}`);
      },
    })),
  );
  await using s = await startServer({ handler: fetchHandler(app) });
  const { ws, messages, closed } = await denoSocket(`ws://127.0.0.1:${s.port}/ws`);
  ws.send("hi");
  await until(() => messages.length === 1, "Hono's answer");
  assert.equal(messages[0], "hono says hi");
  ws.close();
  await closed;
  assert.equal(await (await fetch(`http://127.0.0.1:${s.port}/`)).text(), "hono");
});

Deno.test("websocket: bad handshakes are refused with 400, another version with 426", async () => {
  await using s = await startServer({ handler: fetchHandler(echoApp) });
  const base = "Host: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
  const key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
  const noKey = await exchange(s.port, `GET / HTTP/1.1\r\n${base}Sec-WebSocket-Version: 13\r\n\r\n`);
  assert.equal(noKey.status, 400);
  assert.match(new TextDecoder().decode(noKey.body), /Sec-WebSocket-Key/);
  const badKey = await exchange(
    s.port,
    `GET / HTTP/1.1\r\n${base}Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  assert.equal(badKey.status, 400);
  const v8 = await exchange(s.port, `GET / HTTP/1.1\r\n${base}${key}Sec-WebSocket-Version: 8\r\n\r\n`);
  assert.equal(v8.status, 426);
  assert.deepEqual(v8.headers.find(([n]) => n === "sec-websocket-version"), ["sec-websocket-version", "13"]);
  const noConnection = await exchange(
    s.port,
    `GET / HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n${key}Sec-WebSocket-Version: 13\r\n\r\n`,
  );
  assert.equal(noConnection.status, 400);
  const http10 = await exchange(s.port, `GET / HTTP/1.0\r\n${base}${key}Sec-WebSocket-Version: 13\r\n\r\n`);
  assert.equal(http10.status, 400);
  // And a good one, for contrast: the accept key of RFC 6455 §1.3's example.
  const ok = await handshake(s.port, "/");
  assert.match(ok.head, /^HTTP\/1\.1 101 Switching Protocols/);
  assert.match(ok.head, /sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/i);
  ok.conn.close();
});

Deno.test("websocket: a listener that throws is logged; the server serves on", async () => {
  await using s = await startServer({ handler: fetchHandler(echoApp) });
  const first = await denoSocket(`ws://127.0.0.1:${s.port}/throw`);
  first.ws.send("boom");
  await until(() => s.logs.text.includes("WebSocket message listener failed"), "the failure logged");
  assert.match(s.logs.text, /listener bug/);
  first.ws.close();
  await first.closed;
  const second = await denoSocket(`ws://127.0.0.1:${s.port}/`);
  second.ws.send("still here");
  await until(() => second.messages.length === 1, "an echo");
  second.ws.close();
  await second.closed;
});

Deno.test("websocket: open sockets count against --max-connections", async () => {
  await using s = await startServer({ handler: fetchHandler(echoApp), maxConnections: 2 });
  const a = await denoSocket(`ws://127.0.0.1:${s.port}/`);
  const b = await denoSocket(`ws://127.0.0.1:${s.port}/`);
  const refused = await exchange(s.port, "GET /plain HTTP/1.1\r\nHost: t\r\n\r\n");
  assert.equal(refused.status, 503);
  a.ws.close();
  await a.closed;
  await until(() => s.server.stats.connectionsActive < 2, "a slot freed");
  const served = await exchange(s.port, "GET /plain HTTP/1.1\r\nHost: t\r\n\r\n");
  assert.equal(served.status, 200);
  b.ws.close();
  await b.closed;
});

Deno.test("websocket: a peer that answers no ping is closed; one that answers stays", async () => {
  await using s = await startServer({ handler: fetchHandler(echoApp), wsPingInterval: 0.5 });
  const alive = await denoSocket(`ws://127.0.0.1:${s.port}/`); // Deno's client answers pings itself
  using silent = await openRaw(s.port, "/");
  const ping = await silent.frames.next();
  assert.equal(ping?.opcode, 9, "ferry pings a silent peer");
  assert.ok(await silent.frames.ended(), "and closes it when no pong comes");
  await until(() => s.server.stats.timeouts.get("websocket") === 1, "the timeout counted");
  alive.ws.send("after the pings");
  await until(() => alive.messages.length === 1, "the answering peer is still open");
  assert.equal(s.server.stats.timeouts.get("websocket"), 1);
  alive.ws.close();
  await alive.closed;
});

Deno.test("websocket: at shutdown open sockets are closed with 1001", async () => {
  const s = await startServer({ handler: fetchHandler(echoApp) });
  const { closed } = await denoSocket(`ws://127.0.0.1:${s.port}/`);
  await s.server.shutdown();
  const e = await closed;
  assert.equal(e.code, 1001);
});

Deno.test("websocket: /_metrics shows open sockets, messages, bytes and close codes", async () => {
  await using s = await startServer({ handler: fetchHandler(echoApp) });
  const { ws, messages, closed } = await denoSocket(`ws://127.0.0.1:${s.port}/`);
  ws.send("12345");
  await until(() => messages.length === 1, "the echo");
  const open = await (await fetch(`http://127.0.0.1:${s.port}/_metrics`)).json();
  assert.deepEqual(
    { open: open.websocket.open, in: open.websocket.messages_in, bytes: open.websocket.bytes_in },
    { open: 1, in: 1, bytes: 5 },
  );
  ws.close(1000);
  await closed;
  await until(() => s.server.stats.wsOpen === 0, "closed");
  const text = await (await fetch(`http://127.0.0.1:${s.port}/_metrics?format=prometheus`)).text();
  assert.match(text, /^ferry_websockets_open 0$/m);
  assert.match(text, /^ferry_websocket_messages_total\{direction="out"\} 1$/m);
  assert.match(text, /^ferry_websocket_closes_total\{code="1000"\} 1$/m);
});

Deno.test(
  "websocket: wss:// over ferry's TLS listener, with the npm ws client trusting its certificate",
  needs("env"),
  async () => {
    const material = await makeSelfSigned();
    await using s = await startServer({
      handler: fetchHandler(echoApp),
      https: true,
      httpsPort: 0,
      tlsMaterial: material,
    });
    const ws = new (await wsClient())(`wss://localhost:${s.httpsPort}/`, { ca: material.cert });
    const got: string[] = [];
    ws.on("message", (d: Buffer) => got.push(d.toString()));
    await new Promise<void>((ok, fail) => {
      ws.on("open", () => ok());
      ws.on("error", fail);
    });
    ws.send("over TLS");
    ws.send("y".repeat(100_000));
    await until(() => got.length === 2, "two echoes");
    assert.equal(got[0], "over TLS");
    assert.equal(got[1].length, 100_000);
    const code = new Promise<number>((r) => ws.on("close", (c: number) => r(c)));
    ws.close(1000);
    assert.equal(await code, 1000);
  },
);

Deno.test("websocket: a peer that floods pings without reading is slowed by TCP; pongs coalesce to the latest ping", async () => {
  await using s = await startServer({ handler: fetchHandler(echoApp) });
  using raw = await openRaw(s.port, "/");
  const perChunk = 8000; // about 1 MiB of pings, each numbered
  const chunks = 48;
  const makeChunk = (c: number) => {
    const out: Uint8Array[] = [];
    for (let i = 0; i < perChunk; i++) {
      const payload = new Uint8Array(125);
      new DataView(payload.buffer).setUint32(0, c * perChunk + i);
      out.push(clientFrame({ opcode: 9, payload }));
    }
    const all = new Uint8Array(out.reduce((n, f) => n + f.length, 0));
    let at = 0;
    for (const f of out) all.set(f, (at += f.length) - f.length);
    return all;
  };
  let written = 0;
  const writer = (async () => {
    for (let c = 0; c < chunks; c++) {
      const chunk = makeChunk(c);
      for (let off = 0; off < chunk.length;) off += await raw.conn.write(chunk.subarray(off));
      written++;
    }
  })().catch(() => {});
  // Wait until the server stops taking bytes (its output is full and it stopped reading).
  let last = -1;
  let steady = 0;
  while (steady < 5 && written < chunks) {
    await new Promise((r) => setTimeout(r, 100));
    const now = s.server.stats.bytesIn;
    steady = now === last ? steady + 1 : 0;
    last = now;
  }
  assert.ok(written < chunks, "the writes stall while the pongs are not read");
  assert.ok(s.server.stats.bytesIn < 24 * 1024 * 1024, `the server read ${s.server.stats.bytesIn} bytes`);
  // Reading the pongs lets everything through; pongs come in order, and the last ping gets its own.
  const lastPing = chunks * perChunk - 1;
  let pongs = 0;
  let seen = -1;
  while (seen < lastPing) {
    const f = await raw.frames.next();
    assert.equal(f?.opcode, 10);
    const n = new DataView(f!.payload.buffer, f!.payload.byteOffset).getUint32(0);
    assert.ok(n > seen, `pong ${n} after ${seen}`);
    seen = n;
    pongs++;
  }
  await writer;
  assert.equal(written, chunks);
  assert.ok(pongs <= chunks * perChunk);
});

Deno.test("websocket: frames sent in the same write as the handshake are not lost", async () => {
  await using s = await startServer({ handler: fetchHandler(echoApp) });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  const head = new TextEncoder().encode(
    "GET / HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  const early = [
    clientFrame({ opcode: 1, payload: "early one" }),
    clientFrame({ opcode: 1, payload: "early two" }),
  ];
  const all = new Uint8Array(head.length + early[0].length + early[1].length);
  all.set(head);
  all.set(early[0], head.length);
  all.set(early[1], head.length + early[0].length);
  await conn.write(all);
  const guard = setTimeout(() => conn.close(), 10000); // against hanging, not a timing assertion
  // The 101 head, then the two echoes.
  let buf = new Uint8Array(0);
  while (!new TextDecoder().decode(buf).includes("early two")) {
    const chunk = new Uint8Array(4096);
    const n = await conn.read(chunk).catch(() => null);
    assert.ok(n !== null, "the early frames are echoed");
    const merged = new Uint8Array(buf.length + n);
    merged.set(buf);
    merged.set(chunk.subarray(0, n), buf.length);
    buf = merged;
  }
  const text = new TextDecoder("latin1").decode(buf);
  assert.match(text, /^HTTP\/1\.1 101 /);
  assert.ok(text.indexOf("early one") < text.indexOf("early two"));
  clearTimeout(guard);
  conn.close();
});
