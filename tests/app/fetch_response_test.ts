/**
 * How a fetch app's `Response` leaves, over a real socket: an event stream is flushed event by
 * event as the app produces it (each reaches the client before the next exists); a stream that was
 * complete when returned, and every string, bytes or JSON body, go out whole with a Content-Length;
 * a Blob's length is known for HEAD.
 */

import assert from "assert";
import { fetchHandler } from "../../src/app/fetch.ts";
import { exchange, header, RawClient, text } from "../helpers/client.ts";
import { startServer, until } from "../helpers/server.ts";

const H = "Host: app.test\r\n";
const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("fetch response: server-sent events are flushed one by one, as the app produces them", async () => {
  let events: ReadableStreamDefaultController<Uint8Array> | undefined;
  const app = {
    fetch: () =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(c) {
            events = c;
            c.enqueue(enc.encode("data: 1\n\n"));
          },
        }),
        { headers: { "content-type": "text/event-stream" } },
      ),
  };
  await using s = await startServer({ handler: fetchHandler(app) });
  await using c = await RawClient.connect(s.port);
  await c.send(`GET /events HTTP/1.1\r\n${H}\r\n`);
  const seen = () => dec.decode(c.buffered);
  const waitFor = async (what: string) => {
    await until(() => seen().includes(what), what);
  };
  const reading = (async () => {
    while (!seen().includes("0\r\n\r\n")) await c.poll(20);
  })();
  await waitFor("data: 1\n\n");
  assert.equal(seen().includes("data: 2"), false);
  assert.match(seen(), /Transfer-Encoding: chunked/);
  events!.enqueue(enc.encode("data: 2\n\n"));
  await waitFor("data: 2\n\n");
  events!.close();
  await reading;
  assert.ok(seen().indexOf("data: 1") < seen().indexOf("data: 2"));
});

Deno.test("fetch response: complete bodies and finished streams go out whole, with a Content-Length", async () => {
  const bodies: Record<string, () => Response> = {
    "/json": () => Response.json({ a: 1 }),
    "/text": () => new Response("héllo", { headers: new Headers({ "x-a": "1" }) }),
    "/bytes": () => new Response(new Uint8Array([104, 105])),
    "/finished": () =>
      new Response(
        new ReadableStream({
          start(c) {
            c.enqueue(enc.encode("all "));
            c.enqueue(enc.encode("there"));
            c.close();
          },
        }),
      ),
    "/blob": () => new Response(new Blob(["blob!"])),
  };
  const app = { fetch: (r: Request) => bodies[new URL(r.url).pathname]() };
  await using s = await startServer({ handler: fetchHandler(app) });
  const expect: Record<string, string> = {
    "/json": '{"a":1}',
    "/text": "héllo",
    "/bytes": "hi",
    "/finished": "all there",
    "/blob": "blob!",
  };
  for (const [path, body] of Object.entries(expect)) {
    const res = await exchange(s.port, `GET ${path} HTTP/1.1\r\n${H}\r\n`);
    assert.equal(res.status, 200, path);
    assert.equal(text(res), body, path);
    assert.equal(header(res, "content-length"), String(enc.encode(body).length), path);
    assert.equal(header(res, "transfer-encoding"), undefined, path);
    const head = await exchange(s.port, `HEAD ${path} HTTP/1.1\r\n${H}\r\n`, "HEAD");
    assert.equal(header(head, "content-length"), String(enc.encode(body).length), `HEAD ${path}`);
    assert.equal(head.body.length, 0);
  }
});
