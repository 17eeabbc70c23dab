/**
 * What an open WebSocket costs the server: 1,000 sockets that each exchanged a message, held open
 * against a ferry process (started from main.ts), its resident memory read from outside.
 */

import assert from "assert";
import { rssOf, startChild } from "../helpers/server.ts";
import { clientFrame, KEY } from "../helpers/ws_frames.ts";
import { needs } from "../helpers/needs.ts";

const SOCKETS = 1000;

/** Opens a WebSocket with as little client state as can be, and exchanges one message on it. */
async function openSmall(port: number): Promise<Deno.TcpConn> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  await c.write(
    new TextEncoder().encode(
      `GET / HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    ),
  );
  const buf = new Uint8Array(1024);
  let head = "";
  while (!head.includes("\r\n\r\n")) {
    const n = await c.read(buf);
    assert.ok(n !== null, "the handshake is answered");
    head += new TextDecoder().decode(buf.subarray(0, n));
  }
  assert.match(head, /^HTTP\/1\.1 101 /);
  await c.write(clientFrame({ opcode: 1, payload: "hello" }));
  const n = await c.read(buf);
  assert.ok(n !== null && n >= 7, "the echo comes back");
  return c;
}

Deno.test(
  "ws memory: 1,000 open sockets cost the server under 64 KiB each",
  needs("read", "run"),
  async () => {
    await using s = await startChild(["--app", "tests/ws/echo_app.ts", "--port", "0", "--no-https"]);
    const port = Number(new URL(s.urls[0]).port);
    for (let i = 0; i < 20; i++) (await openSmall(port)).close(); // warm up: code compiled, pools filled
    await new Promise((r) => setTimeout(r, 500));
    const before = await rssOf(s.child.pid);
    const conns: Deno.TcpConn[] = [];
    try {
      for (let i = 0; i < SOCKETS; i++) conns.push(await openSmall(port));
      await new Promise((r) => setTimeout(r, 1000));
      const per = (await rssOf(s.child.pid) - before) / SOCKETS;
      console.log(`server RSS per open WebSocket: ${(per / 1024).toFixed(1)} KiB`);
      assert.ok(per < 64 * 1024, `${(per / 1024).toFixed(1)} KiB per socket`);
    } finally {
      for (const c of conns) c.close();
    }
  },
);
