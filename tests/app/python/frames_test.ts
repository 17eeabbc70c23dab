/** The ferry ↔ Python worker framing: frames survive every split of the byte stream. */

import assert from "assert";
import {
  creditPayload,
  decodeHead,
  encodeFrame,
  FRAME,
  FRAME_HEADER_BYTES,
  FrameReader,
  MAX_FRAME_BYTES,
  requestFrame,
} from "../../../src/app/python/frames.ts";

function feed(reader: FrameReader, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) {
    const space = reader.space();
    const n = Math.min(space.length, bytes.length - off);
    space.set(bytes.subarray(off, off + n));
    reader.added(n);
    off += n;
  }
}

Deno.test("frames: a stream of frames read back at every split point, in order", () => {
  const payload = new Uint8Array(70_000).map((_, i) => i & 0xff);
  const stream = new Uint8Array([
    ...encodeFrame(FRAME.Head, 3, new Uint8Array([1, 2, 3])),
    ...encodeFrame(FRAME.Data, 3, payload),
    ...encodeFrame(FRAME.End, 3),
  ]);
  for (const at of [1, 5, 9, 10, 100, 70_009, stream.length - 1]) {
    const reader = new FrameReader();
    const got = [];
    feed(reader, stream.subarray(0, at));
    for (let f = reader.next(); f; f = reader.next()) got.push(f);
    feed(reader, stream.subarray(at));
    for (let f = reader.next(); f; f = reader.next()) got.push(f);
    assert.deepEqual(got.map((f) => [f.type, f.stream, f.payload.length]), [
      [FRAME.Head, 3, 3],
      [FRAME.Data, 3, 70_000],
      [FRAME.End, 3, 0],
    ], `split at ${at}`);
    assert.deepEqual(got[1].payload, payload);
  }
});

Deno.test("frames: a request frame carries credit, the NUL-separated latin-1 environ and the body", () => {
  const f = requestFrame(9, 4096, [["PATH_INFO", "/caf\u00c3\u00a9"], ["A", ""]], new Uint8Array([7, 8]));
  const v = new DataView(f.buffer);
  assert.equal(v.getUint8(0), FRAME.Request);
  assert.equal(v.getUint32(1), 9);
  assert.equal(v.getUint32(5), f.length - FRAME_HEADER_BYTES);
  assert.equal(v.getUint32(9), 4096);
  const size = v.getUint32(13);
  const text = String.fromCharCode(...f.subarray(17, 17 + size));
  assert.deepEqual(text.split("\0"), ["PATH_INFO", "/caf\u00c3\u00a9", "A", ""]);
  assert.deepEqual([...f.subarray(17 + size)], [7, 8]);
  assert.deepEqual([...creditPayload(65536)], [0, 1, 0, 0]);
});

Deno.test("frames: a HEAD payload decodes; a truncated one and an oversized frame are refused", () => {
  const enc = (s: string) => [0, 0, 0, s.length, ...new TextEncoder().encode(s)];
  const head = new Uint8Array([...enc("201 Created"), 0, 0, 0, 1, ...enc("X-A"), ...enc("b")]);
  assert.deepEqual(decodeHead(head), { status: "201 Created", headers: [["X-A", "b"]] });
  assert.throws(() => decodeHead(head.subarray(0, head.length - 1)), RangeError);
  const reader = new FrameReader();
  const big = new Uint8Array(FRAME_HEADER_BYTES);
  new DataView(big.buffer).setUint32(5, MAX_FRAME_BYTES + 1);
  feed(reader, big);
  assert.throws(() => reader.next(), RangeError);
});
