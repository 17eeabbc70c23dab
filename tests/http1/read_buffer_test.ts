/**
 * The read buffer's rules: it starts at 1 KiB, compacts before it grows, grows by doubling to its
 * bound, and between requests keeps at most 4 KiB of what a client's heads grew it to.
 */

import assert from "assert";
import {
  IDLE_KEEP_BYTES,
  idleReadBuffer,
  READ_BUFFER_BYTES,
  roomToRead,
} from "../../src/http1/read_buffer.ts";

Deno.test("read buffer: compacts before growing, doubles up to the bound, refuses past it", () => {
  const b = { buf: new Uint8Array(READ_BUFFER_BYTES), start: 0, end: 0 };
  assert.equal(b.buf.length, 1024);
  b.start = 1000;
  b.end = 1024;
  roomToRead(b, 4096);
  assert.deepEqual([b.buf.length, b.start, b.end], [1024, 0, 24], "compacted, not grown");
  b.end = 1024;
  roomToRead(b, 4096);
  assert.equal(b.buf.length, 2048);
  b.end = 2048;
  roomToRead(b, 3000);
  assert.equal(b.buf.length, 3000, "grown to the bound, not past it");
  b.end = 3000;
  assert.throws(() => roomToRead(b, 3000), /cannot grow/);
});

Deno.test("read buffer: between requests, a small buffer stays small and a large one shrinks to 4 KiB", () => {
  const small = { buf: new Uint8Array(READ_BUFFER_BYTES), start: 5, end: 9 };
  const before = small.buf;
  idleReadBuffer(small);
  assert.equal(small.buf, before);
  assert.deepEqual([small.start, small.end], [0, 0]);
  const grown = { buf: new Uint8Array(2048), start: 0, end: 0 };
  idleReadBuffer(grown);
  assert.equal(grown.buf.length, 2048, "a client with 2 KiB heads keeps its buffer");
  const large = { buf: new Uint8Array(16384), start: 0, end: 0 };
  idleReadBuffer(large);
  assert.equal(large.buf.length, IDLE_KEEP_BYTES);
});
