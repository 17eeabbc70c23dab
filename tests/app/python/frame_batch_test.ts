/**
 * ferry's reading of a worker's socket (`FrameReader`): the frames of one read are copied out once,
 * together, and each frame handed out stays intact while the reader's buffer is reused and compacted
 * under it; and the pool's deadlines (`deadlines.ts`) fire once each unless cancelled.
 */

import assert from "assert";
import { encodeFrame, FRAME, FrameReader } from "../../../src/app/python/frames.ts";
import { Deadlines } from "../../../src/app/python/deadlines.ts";

function read(reader: FrameReader, bytes: Uint8Array): void {
  const space = reader.space();
  space.set(bytes);
  reader.added(bytes.length);
}

Deno.test("frame reader: the whole frames of one read share one copy; a partial one waits", () => {
  const reader = new FrameReader();
  const frames = [];
  for (let sid = 1; sid <= 10; sid++) {
    frames.push(encodeFrame(FRAME.Head, sid, new Uint8Array([sid, 1])));
    frames.push(encodeFrame(FRAME.Data, sid, new Uint8Array(12).fill(sid)));
    frames.push(encodeFrame(FRAME.End, sid));
  }
  const partial = encodeFrame(FRAME.Data, 11, new Uint8Array(100).fill(11));
  const bytes = new Uint8Array([...frames.flatMap((f) => [...f]), ...partial.subarray(0, 50)]);
  read(reader, bytes);
  const got = [];
  for (let f = reader.next(); f; f = reader.next()) got.push(f);
  assert.equal(got.length, 30, "every whole frame, the partial one not yet");
  const buffers = new Set(got.map((f) => f.payload.buffer));
  assert.equal(buffers.size, 1, "one copy for the frames of one read, not one per frame");
  // The rest of the partial frame, then enough reads to reuse and compact the reader's buffer.
  read(reader, partial.subarray(50));
  const last = reader.next();
  assert.equal(last?.stream, 11);
  assert.deepEqual([...last!.payload], new Array(100).fill(11));
  for (let i = 0; i < 40; i++) {
    read(reader, encodeFrame(FRAME.Data, 99, new Uint8Array(4000).fill(0xee)));
    assert.equal(reader.next()?.payload.length, 4000);
  }
  for (const [i, f] of got.entries()) {
    const sid = Math.floor(i / 3) + 1;
    assert.equal(f.stream, sid);
    const want = i % 3 === 0 ? [sid, 1] : i % 3 === 1 ? new Array(12).fill(sid) : [];
    assert.deepEqual([...f.payload], want, `frame ${i} is intact after the buffer was reused`);
  }
});

Deno.test("deadlines: due ones fire once each, one armed by an expiry later; cancelled ones never", async () => {
  const d = new Deadlines();
  try {
    const fired: string[] = [];
    let done!: () => void;
    const all = new Promise<void>((r) => done = r);
    d.watch(0, () => fired.push("a"));
    const cancelB = d.watch(0, () => fired.push("b"));
    d.watch(0, () => {
      fired.push("c");
      // An expiry may arm another: it fires on a later sweep.
      d.watch(0, () => {
        fired.push("d");
        done();
      });
    });
    const cancelLate = d.watch(3_600_000, () => fired.push("late"));
    assert.equal(d.size, 4);
    cancelB();
    cancelB(); // twice is harmless
    assert.equal(d.size, 3);
    await all;
    assert.deepEqual([...fired.slice(0, 2).sort(), fired[2]], ["a", "c", "d"]);
    assert.equal(fired.length, 3);
    assert.equal(d.size, 1, "only the hour-long deadline is left");
    cancelLate();
    assert.equal(d.size, 0);
  } finally {
    d.close();
  }
});
