/**
 * Upgrades through the reverse proxy: a WebSocket to a Deno echo server, tunnelled byte for byte
 * (text and binary messages, both ways); the 101's hop-by-hop fields (those its `Connection`
 * names) are removed as on any response (Caddy's CVE-2026-55458).
 */

import assert from "assert";
import { RawClient } from "../helpers/client.ts";
import { startServer } from "../helpers/server.ts";
import { spawnUpstream } from "../helpers/upstreams.ts";
import { join } from "../helpers/paths.ts";
import { ROOT } from "../helpers/server.ts";
import { parseProxyRoute } from "../../src/upstream/proxy_flag.ts";
import { needs } from "../helpers/needs.ts";

Deno.test("upgrade: a WebSocket is tunnelled to a Deno echo server", needs("read", "run"), async () => {
  await using up = await spawnUpstream(
    Deno.execPath(),
    ["run", "--allow-net", join(ROOT, "tests", "upstream", "fixtures", "ws_echo.ts")],
    { port: 0 },
  );
  await using s = await startServer({ proxyRoutes: [parseProxyRoute(`/ws/=${up.target}`)] });
  const ws = new WebSocket(`ws://127.0.0.1:${s.port}/ws/echo`);
  ws.binaryType = "arraybuffer";
  const got: Array<string | number[]> = [];
  const done = new Promise<void>((resolve, reject) => {
    ws.onopen = () => {
      ws.send("hello");
      ws.send(new Uint8Array([0, 1, 2, 255]));
      ws.send("x".repeat(100_000));
    };
    ws.onmessage = (e) => {
      got.push(typeof e.data === "string" ? e.data : [...new Uint8Array(e.data)]);
      if (got.length === 3) ws.close();
    };
    ws.onclose = () => resolve();
    ws.onerror = (e) => reject(new Error(`websocket error ${(e as ErrorEvent).message}`));
  });
  await done;
  assert.deepEqual(got, ["hello", [0, 1, 2, 255], "x".repeat(100_000)]);
});

Deno.test("upgrade: fields a 101's Connection names are not passed to the client", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  let seen = "";
  const upstream = (async () => {
    const conn = await listener.accept();
    const buf = new Uint8Array(4096);
    while (!seen.includes("\r\n\r\n")) {
      seen += new TextDecoder().decode(buf.subarray(0, (await conn.read(buf))!));
    }
    await conn.write(new TextEncoder().encode(
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade, X-Internal\r\nUpgrade: echo\r\n" +
        "X-Internal: leaked\r\nKeep-Alive: timeout=9\r\nX-Public: ok\r\n\r\nfrom-upstream",
    ));
    const n = await conn.read(buf);
    await conn.write(buf.subarray(0, n!)); // echo one piece
    conn.close();
  })();
  await using s = await startServer({ proxyRoutes: [parseProxyRoute(`/t/=127.0.0.1:${port}`)] });
  await using c = await RawClient.connect(s.port);
  await c.send("GET /t/x HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n");
  let raw = "";
  const buf = new Uint8Array(4096);
  while (!raw.includes("from-upstream")) {
    raw += new TextDecoder().decode(buf.subarray(0, (await c.conn.read(buf))!));
  }
  const head = raw.slice(0, raw.indexOf("\r\n\r\n")).toLowerCase();
  assert.match(head, /^http\/1.1 101/);
  assert.match(head, /\r\nupgrade: echo/);
  assert.match(head, /\r\nx-public: ok/);
  assert.ok(!head.includes("x-internal"), head); // a mutant passing Connection-named fields on a 101 fails
  assert.ok(!head.includes("keep-alive"), head);
  assert.match(seen.toLowerCase(), /\r\nconnection: upgrade\r\nupgrade: echo\r\n/);
  await c.send("ping-through");
  let back = "";
  while (!back.includes("ping-through")) {
    back += new TextDecoder().decode(buf.subarray(0, (await c.conn.read(buf))!));
  }
  await upstream;
  listener.close();
});
