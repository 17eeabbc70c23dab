/**
 * The frame reader at every split: a run of frames fed one octet at a time, and in every pair of
 * pieces, yields the same frames; a frame over the maximum size is refused from its header,
 * before its payload arrives. And `Expect: 100-continue` over HTTP/2 (an interim HEADERS).
 */

import assert from "assert";
import { FrameReader } from "../../src/http2/frames.ts";
import { ConnectionError } from "../../src/http2/errors.ts";
import { Client, concat, exchange, FRAME, get } from "./frame_kit.ts";
import { startServer } from "../helpers/server.ts";

const c = new Client();
const RUN = concat([
  c.settings([[4, 100]]),
  c.headers(1, get("/a"), { end: false, pad: 3 }),
  c.data(1, new Uint8Array(300).fill(7)),
  c.data(1, [], true),
  c.ping(),
  c.windowUpdate(0, 1000),
  c.rst(1),
]);

function frames(pieces: Uint8Array[]): string[] {
  const r = new FrameReader(16384);
  const out: string[] = [];
  for (const p of pieces) {
    r.push(p);
    for (let f = r.next(); f !== null; f = r.next()) {
      out.push(`${f.type}/${f.flags}/${f.streamId}/${Array.from(f.payload).join(",")}`);
    }
  }
  return out;
}

Deno.test("frames: the reader yields the same frames fed whole, one octet at a time, and split anywhere", () => {
  const whole = frames([RUN]);
  assert.equal(whole.length, 7);
  assert.deepEqual(frames(Array.from(RUN, (b) => new Uint8Array([b]))), whole);
  for (let at = 0; at <= RUN.length; at++) {
    assert.deepEqual(frames([RUN.subarray(0, at), RUN.subarray(at)]), whole, `split at ${at}`);
  }
});

Deno.test("frames: a frame over SETTINGS_MAX_FRAME_SIZE is refused from its header alone", () => {
  const r = new FrameReader(16384);
  r.push(new Uint8Array([0x00, 0x40, 0x01, 0, 0, 0, 0, 0, 1])); // 16385 octets announced, none sent
  assert.throws(() => r.next(), ConnectionError);
});

Deno.test("frames: Expect: 100-continue gets an interim 100 HEADERS when the handler reads the body", async () => {
  await using s = await startServer({
    h2c: true,
    handler: async (req, res) => await res.send(200, [], String((await req.body.bytes()).length)),
  });
  const k = new Client();
  const post: Array<[string, string]> = [[":method", "POST"], [":scheme", "http"], [":path", "/"], [
    "expect",
    "100-continue",
  ]];
  const { frames: got } = await exchange(
    s.port,
    concat([k.start(), k.headers(1, post, { end: false }), k.data(1, [1, 2, 3], true)]),
    (fs) => fs.some((f) => f.type === FRAME.DATA && f.stream === 1),
  );
  const statuses = got.filter((f) => f.type === FRAME.HEADERS).map((f) => f.fields?.[0]?.[1]);
  assert.deepEqual(statuses, ["100", "200"]);
});

Deno.test("h2 frames: shrink() while a read into room() is pending keeps the bytes read into it", () => {
  const r = new FrameReader(16384);
  // Grow the buffer past its idle size with a large frame, then take it.
  r.push(c.data(1, new Uint8Array(12000)));
  assert.equal(r.next()?.payload.length, 12000);
  // The connection lends the buffer to a socket read, then goes idle (a handler ended) and asks
  // the reader to shrink before that read completes.
  const room = r.room();
  r.shrink();
  const ping = c.ping();
  room.set(ping);
  r.commit(ping.length);
  const f = r.next();
  assert.equal(f?.type, FRAME.PING);
  assert.deepEqual(Array.from(f!.payload), [1, 2, 3, 4, 5, 6, 7, 8]);
  // Between reads the buffer does shrink: a later read gets a small one.
  r.shrink();
  assert.ok(r.room().length <= 4096);
});
