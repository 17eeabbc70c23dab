/** Apps through the in-memory exchange harness: fetch apps and WSGI-style apps see the request whole. */

import assert from "assert";
import { request } from "../../src/http/harness.ts";
import { fetchHandler } from "../../src/app/fetch.ts";
import { wsgiHandler } from "../../src/app/wsgi.ts";
import { Dispatcher } from "../../src/http/dispatch.ts";
import { Logger } from "../../src/log/logger.ts";
import { MemorySink } from "../helpers/server.ts";

Deno.test("fetch app (harness): method, URL, headers and body in; status, headers and body out", async () => {
  const h = fetchHandler({
    fetch: async (r: Request) =>
      new Response(`${r.method} ${new URL(r.url).pathname} ${r.headers.get("x-a")} ${await r.text()}`, {
        status: 202,
        headers: { "x-b": "2" },
      }),
  });
  const res = await request(h, "/echo?q=1", {
    method: "POST",
    headers: { host: "h.test", "x-a": "1" },
    body: "hi",
  });
  assert.equal(res.status, 202);
  assert.equal(res.header("x-b"), "2");
  assert.equal(res.text(), "POST /echo 1 hi");
});

Deno.test("fetch app (harness): an exception is answered 500, as every protocol answers it", async () => {
  const h = fetchHandler({ fetch: () => Promise.reject(new Error("boom")) });
  const res = await request(h, "/");
  assert.equal(res.status, 500);
  assert.doesNotMatch(res.text(), /boom/, "the message stays in the log");
  assert.match(res.log, /handler failed.*boom/);
});

Deno.test("WSGI-style app (harness): environ from the request; the dispatcher routes by prefix", async () => {
  const app = wsgiHandler((environ, start) => {
    start("200 OK", [["Content-Type", "text/plain"]]);
    return [
      `${environ.REQUEST_METHOD} ${environ.PATH_INFO} ${environ.QUERY_STRING} ${environ.SERVER_PROTOCOL}`,
    ];
  }, { log: new Logger("none", new MemorySink(), new MemorySink()) });
  const other = (_req: unknown, res: { send(s: number, h: [], b: string): Promise<void> }) =>
    res.send(200, [], "other");
  const d = new Dispatcher([{ name: "other", prefix: "/other/", handler: other as never }], {
    name: "app",
    prefix: "/",
    handler: app,
  });
  const res = await request(d, "/x/y?z=1", { headers: { host: "h.test" } });
  assert.equal(res.status, 200);
  assert.equal(res.text(), "GET /x/y z=1 HTTP/1.1");
  assert.equal((await request(d, "/other/a")).text(), "other");
});

Deno.test("fetch app (harness): info.remoteAddr is the client; info.completed resolves once the response is sent", async () => {
  const order: string[] = [];
  let kept: { completed: Promise<void> } | undefined;
  const h = fetchHandler({
    fetch(r, info) {
      if (new URL(r.url).pathname === "/later") {
        kept = info;
        return new Response("later");
      }
      info.completed.then(() => order.push("completed"));
      order.push(`${info.remoteAddr.transport} ${info.remoteAddr.hostname}:${info.remoteAddr.port}`);
      return Promise.resolve(new Response("now"));
    },
  });
  const res = await request(h, "/now", { headers: { host: "h.test" }, clientAddr: "10.1.2.3" });
  order.push(`sent ${res.text()}`);
  await Promise.resolve();
  assert.deepEqual(order, ["tcp 10.1.2.3:40000", "completed", "sent now"]);
  // Asked for only after the response went: resolves all the same.
  await request(h, "/later", { headers: { host: "h.test" } });
  await kept!.completed;
});
