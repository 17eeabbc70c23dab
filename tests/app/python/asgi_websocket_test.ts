/**
 * ASGI WebSocket scopes on ferry's own RFC 6455 connections, with real asyncio workers and the npm
 * `ws` client: accept with a subprotocol and extra headers, text and binary echo, the client's
 * close code reaching the app, the app's close code and reason reaching the client, a close
 * before accepting → 403, an exception before accepting → 500, over ws:// and wss://.
 */

import assert from "assert";
import type WsClient from "ws";
import { wsClient } from "../../helpers/ws_client.ts";
import { exchange, header, text } from "../../helpers/client.ts";
import { startAsgi } from "../../helpers/python.ts";
import { until } from "../../helpers/server.ts";
import { join } from "../../helpers/paths.ts";
import { makeSelfSigned } from "../../../src/tls/cert.ts";
import { needs } from "../../helpers/needs.ts";

const material = await makeSelfSigned();

async function open(url: string, protocols: string[] = []): Promise<WsClient> {
  const ws = new (await wsClient())(url, protocols, { ca: material.cert });
  return new Promise((ok, fail) => {
    ws.on("open", () => ok(ws));
    ws.on("error", fail);
  });
}

function nextMessage(ws: WsClient): Promise<{ data: string; binary: boolean }> {
  return new Promise((ok) =>
    ws.once("message", (d: Uint8Array, binary: boolean) => ok({ data: d.toString(), binary }))
  );
}

for (const secure of [false, true]) {
  const name = secure ? "wss" : "ws";
  Deno.test(
    `asgi websocket (${name}): accept with a subprotocol, text and binary echo, close codes both ways`,
    needs("read", "write", "run", "env"),
    async () => {
      await using s = await startAsgi(
        "asgi_apps:app",
        { workers: 1 },
        secure ? { https: true, httpsPort: 0, tlsMaterial: material } : {},
      );
      const base = secure ? `wss://localhost:${s.httpsPort}` : `ws://127.0.0.1:${s.port}`;
      const marker = join(await Deno.makeTempDir({ prefix: "ferry-asgi-ws-" }), "marker");
      const ws = await open(`${base}/ws/echo?${marker}`, ["chat.v1", "chat.v2"]);
      assert.equal(ws.protocol, "chat.v2");
      let reply = nextMessage(ws);
      ws.send("hello");
      assert.deepEqual(await reply, { data: "echo: hello", binary: false });
      reply = nextMessage(ws);
      ws.send(new Uint8Array([0x61, 0x62]));
      assert.deepEqual(await reply, { data: "echo: ab", binary: true });
      reply = nextMessage(ws);
      ws.send("scope");
      const scope = JSON.parse((await reply).data);
      assert.equal(scope.type, "websocket");
      assert.equal(scope.scheme, secure ? "wss" : "ws");
      assert.deepEqual(scope.subprotocols, ["chat.v1", "chat.v2"]);
      assert.equal(scope.path, "/ws/echo");
      assert.equal(scope.method, undefined);
      assert.deepEqual(scope.state, { greeting: "from lifespan" });
      // The client's close code reaches the app as websocket.disconnect.
      const closed = new Promise<number>((r) => ws.on("close", (c: number) => r(c)));
      ws.close(4000, "bye");
      assert.equal(await closed, 4000);
      await until(() => {
        try {
          return Deno.readTextFileSync(marker) === "disconnect 4000";
        } catch {
          return false;
        }
      }, "the app to see websocket.disconnect with 4000");
      // The app's close code and reason reach the client.
      const ws2 = await open(`${base}/ws/echo`);
      const closed2 = new Promise<[number, string]>((r) =>
        ws2.on("close", (c: number, why: Uint8Array) => r([c, why.toString()]))
      );
      ws2.send("close-me");
      assert.deepEqual(await closed2, [4001, "asked to"]);
      await until(() => s.server.stats.wsOpen === 0, "both sockets closed");
      assert.equal(s.server.stats.wsOpened, 2, "ferry's WebSocket metrics count them");
    },
  );
}

Deno.test(
  "asgi websocket: extra accept headers are sent; a close before accept → 403; a raise → 500",
  needs("read", "write", "run", "env"),
  async () => {
    await using s = await startAsgi("asgi_apps:app", { workers: 1 });
    const hs = (path: string) =>
      exchange(
        s.port,
        `GET ${path} HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      );
    const denied = await hs("/ws/deny");
    assert.equal(denied.status, 403);
    const raised = await hs("/ws/raise");
    assert.equal(raised.status, 500);
    assert.match(s.logText(), /refusing by raising/);
    const ws = new (await wsClient())(`ws://127.0.0.1:${s.port}/ws/echo`);
    let headers: Record<string, string> = {};
    ws.on("upgrade", (res: { headers: Record<string, string> }) => headers = res.headers);
    await new Promise((ok) => ws.on("open", ok));
    assert.equal(headers["x-accepted"], "yes");
    const closed = new Promise((ok) => ws.on("close", ok));
    ws.close();
    await closed;
    // A plain request still works after all that.
    const plain = await exchange(s.port, "GET /pid HTTP/1.1\r\nHost: t\r\n\r\n");
    assert.equal(plain.status, 200);
    assert.ok(text(plain).length > 0);
    void header;
  },
);
