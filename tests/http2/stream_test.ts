/**
 * A stream's request body (`H2Body`): `readInto` hands over every DATA piece queued that fits,
 * so an upload writes large pieces rather than one per 16 KiB frame, and the credit of each byte
 * read goes back to the session once.
 */

import assert from "assert";
import { H2Stream } from "../../src/http2/stream.ts";
import { requestFields } from "../../src/http2/request_head.ts";

Deno.test("h2 stream: readInto takes all the queued DATA that fits, and returns its credit", async () => {
  let credited = 0;
  const head = requestFields([":method", ":scheme", ":path"], ["PUT", "http", "/up"]);
  const s = new H2Stream(1, head, { consumed: (_s, n) => credited += n }, 65535, 1 << 20);
  for (let i = 0; i < 5; i++) s.body.push(new Uint8Array(16384).fill(i));
  s.remoteEnded = true;
  const buf = new Uint8Array(64 * 1024);
  assert.equal(await s.body.readInto(buf), 65536);
  assert.deepEqual([buf[0], buf[16384], buf[32768], buf[49152], buf[65535]], [0, 1, 2, 3, 3]);
  assert.equal(credited, 65536);
  assert.equal(await s.body.readInto(buf), 16384);
  assert.equal(buf[0], 4);
  assert.equal(await s.body.readInto(buf), null);
  assert.equal(credited, 5 * 16384);
});

Deno.test("h2 stream: a piece larger than the room is handed over in parts", async () => {
  const head = requestFields([":method", ":scheme", ":path"], ["PUT", "http", "/up"]);
  const s = new H2Stream(1, head, { consumed: () => {} }, 65535, 1 << 20);
  s.body.push(Uint8Array.from({ length: 10 }, (_, i) => i));
  s.remoteEnded = true;
  const buf = new Uint8Array(4);
  const got: number[] = [];
  for (let n = await s.body.readInto(buf); n !== null; n = await s.body.readInto(buf)) {
    got.push(...buf.subarray(0, n));
  }
  assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});
