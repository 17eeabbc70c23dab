/**
 * Graceful drain over HTTP/2: SIGTERM sends GOAWAY NO_ERROR whose last stream id covers the
 * stream in flight; that stream's request body, still arriving, is read to its end and answered;
 * a stream opened after the GOAWAY is not served; the process exits 0.
 */

import assert from "assert";
import { startChild, startServer } from "../helpers/server.ts";
import { Client, concat, FLAG, FRAME, get, type SeenFrame, ServerFrames } from "./frame_kit.ts";
import { needs } from "../helpers/needs.ts";

const APP = new URL("./fixtures/echo_length_app.ts", import.meta.url).pathname;

Deno.test(
  "h2 drain: SIGTERM → GOAWAY NO_ERROR (last stream 1); the body in flight finishes; exit 0",
  needs("read", "run"),
  async () => {
    await using child = await startChild([
      "--port",
      "0",
      "--no-https",
      "--h2c",
      "--app",
      APP,
      "--log-format",
      "none",
    ]);
    const port = Number(new URL(child.urls[0]).port);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const seen = new ServerFrames();
    const buf = new Uint8Array(65536);
    const readUntil = async (done: (fs: SeenFrame[]) => boolean) => {
      while (!done(seen.frames)) {
        const n = await conn.read(buf);
        if (n === null) return;
        seen.add(buf.subarray(0, n));
      }
    };
    const c = new Client();
    const post: Array<[string, string]> = [[":method", "POST"], [":scheme", "http"], [":path", "/up"], [
      ":authority",
      "x",
    ]];
    await conn.write(
      concat([c.start(), c.headers(1, post, { end: false }), c.data(1, new Uint8Array(5000))]),
    );
    // The server has the stream when it answers a PING sent after it.
    await conn.write(c.ping());
    await readUntil((fs) => fs.some((f) => f.type === FRAME.PING && (f.flags & FLAG.ACK) !== 0));
    child.child.kill("SIGTERM");
    await readUntil((fs) => fs.some((f) => f.type === FRAME.GOAWAY));
    const goaway = seen.frames.find((f) => f.type === FRAME.GOAWAY)!;
    assert.equal(goaway.code, 0);
    assert.equal(goaway.last, 1);
    // The rest of the body, then a new stream the server must not serve.
    await conn.write(
      concat([
        c.data(1, new Uint8Array(3000), true),
        c.headers(3, post, { end: false }),
        c.data(3, [1, 2], true),
      ]),
    );
    await readUntil((fs) =>
      fs.some((f) => f.type === FRAME.DATA && f.stream === 1 && (f.flags & FLAG.END_STREAM) !== 0)
    );
    const body = new TextDecoder().decode(
      concat(seen.frames.filter((f) => f.type === FRAME.DATA && f.stream === 1).map((f) => f.payload)),
    );
    assert.equal(body, "POST /up 8000");
    await readUntil(() => false); // the server closes
    conn.close();
    assert.equal(seen.frames.some((f) => f.stream === 3 && f.type === FRAME.HEADERS), false);
    assert.equal((await child.status).code, 0);
  },
);

Deno.test("h2 drain: an idle HTTP/2 connection gets its GOAWAY before it closes", async () => {
  const s = await startServer({ h2c: true });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  const seen = new ServerFrames();
  const c = new Client();
  await conn.write(concat([c.start(), c.headers(1, get("/"))]));
  const buf = new Uint8Array(65536);
  while (!seen.frames.some((f) => f.type === FRAME.DATA && (f.flags & FLAG.END_STREAM) !== 0)) {
    seen.add(buf.subarray(0, (await conn.read(buf))!));
  }
  const stopped = s.server.shutdown();
  for (let n = await conn.read(buf); n !== null; n = await conn.read(buf).catch(() => null)) {
    seen.add(buf.subarray(0, n));
  }
  conn.close();
  await stopped;
  const goaway = seen.frames.find((f) => f.type === FRAME.GOAWAY);
  assert.equal(goaway?.code, 0);
  assert.equal(goaway?.last, 1);
});
