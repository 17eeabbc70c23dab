/**
 * The read buffer's rules: it starts at 1 KiB, compacts before it grows, grows by doubling to its
 * bound, and between requests takes the size the client's bytes have needed (256 B to 4 KiB); bytes are
 * taken in order, whatever piece they arrived in, and a read in flight is waited for first.
 */

import assert from "assert";
import {
  IDLE_KEEP_BYTES,
  IDLE_MIN_BYTES,
  READ_BUFFER_BYTES,
  ReadBuffer,
  type ReadSource,
} from "../../src/http1/read_buffer.ts";

/** A source that hands out `pieces`, one a read (cut to the room given). */
function pieces(...parts: Uint8Array[]): ReadSource & { reads: number } {
  const queue = [...parts];
  return {
    reads: 0,
    read(into: Uint8Array): Promise<number | null> {
      this.reads++;
      const next = queue.shift();
      if (next === undefined) return Promise.resolve(null);
      const n = Math.min(into.length, next.length);
      into.set(next.subarray(0, n));
      if (n < next.length) queue.unshift(next.subarray(n));
      return Promise.resolve(n);
    },
  };
}

const filled = (n: number, v = 1) => new Uint8Array(n).fill(v);

Deno.test("read buffer: compacts before growing, doubles up to the bound, refuses past it", async () => {
  const b = new ReadBuffer(pieces(filled(1024), filled(1000), filled(2048), filled(952)), 3000);
  assert.equal(b.capacity, READ_BUFFER_BYTES);
  assert.equal(await b.fill(), true);
  assert.equal(b.available(), 1024);
  b.consume(1000);
  await b.fill(); // 24 unconsumed: compacted, not grown
  assert.deepEqual([b.capacity, b.offset, b.limit], [1024, 0, 1024]);
  await b.fill(); // full and nothing consumed: doubles
  assert.equal(b.capacity, 2048);
  await b.fill();
  assert.equal(b.capacity, 3000, "grown to the bound, not past it");
  assert.equal(b.available(), 3000);
  assert.throws(() => b.space(), /cannot grow/);
});

Deno.test("read buffer: between requests it takes the size the client's bytes have needed, 256 B to 4 KiB", async () => {
  const small = new ReadBuffer(pieces(filled(9), filled(9), filled(9)), 1 << 20);
  await small.fill();
  small.consume(9);
  small.idle();
  assert.deepEqual([small.capacity, small.available()], [IDLE_MIN_BYTES, 0], "a 9-byte head waits in 256 B");
  const kept = small.array;
  for (let i = 0; i < 2; i++) {
    await small.fill();
    small.consume(9);
    small.idle();
  }
  assert.equal(small.array, kept, "the same size again: no new buffer per request");
  const mid = new ReadBuffer(pieces(filled(300)), 1 << 20);
  await mid.fill();
  mid.idle();
  assert.equal(mid.capacity, 512, "300-byte heads wait in 512 B");
  // Small requests first, then a pipelined burst that fills the small buffer: it grows back.
  const burst = new ReadBuffer(pieces(filled(9), filled(900)), 1 << 20);
  await burst.fill();
  burst.consume(9);
  burst.idle();
  assert.equal(burst.capacity, IDLE_MIN_BYTES);
  await burst.fill(); // 256 of the 900: the read filled the buffer
  burst.consume(burst.available());
  burst.idle();
  assert.equal(burst.capacity, 512, "a read that filled it counts twice its size");
  const grown = new ReadBuffer(pieces(filled(2048)), 1 << 20);
  await grown.fill();
  await grown.fill();
  grown.idle();
  assert.ok(
    grown.capacity >= 2048 && grown.capacity <= IDLE_KEEP_BYTES,
    "a client with 2 KiB heads keeps room for them",
  );
  const large = new ReadBuffer(pieces(), 1 << 20, filled(16384));
  assert.equal(large.available(), 16384, "a sniffer's early bytes come first");
  large.idle();
  assert.equal(large.capacity, IDLE_KEEP_BYTES);
});

Deno.test("read buffer: take and takeInto hand out bytes in order across pieces; fill is false at the end", async () => {
  const enc = new TextEncoder();
  const b = new ReadBuffer(pieces(enc.encode("hel"), enc.encode("lo wor"), enc.encode("ld")), 1 << 20);
  while (await b.fill());
  assert.equal(b.available(), 11);
  const head = b.take(5);
  assert.equal(new TextDecoder().decode(head), "hello");
  assert.equal(head.buffer.byteLength, 5, "a taken piece holds no more than itself");
  const into = new Uint8Array(3);
  assert.equal(b.takeInto(into), 3);
  assert.equal(new TextDecoder().decode(into), " wo");
  assert.equal(new TextDecoder().decode(b.take(100)), "rld");
  assert.equal(b.available(), 0);
  assert.throws(() => b.consume(1), RangeError);
});

Deno.test("read buffer: a read in flight is waited for, and its bytes satisfy the fill without another read", async () => {
  let release!: () => void;
  const src = pieces(new Uint8Array([9]));
  const b: ReadBuffer = new ReadBuffer({
    read: (into) => src.read(into),
    inFlight: () => flight,
  }, 1 << 20);
  let flight: Promise<void> | undefined = new Promise<void>((ok) => release = ok).then(() => {
    b.append(new Uint8Array([1, 2, 3]));
    flight = undefined;
  });
  const filling = b.fill();
  release();
  assert.equal(await filling, true);
  assert.equal(src.reads, 0, "the watch's bytes were enough");
  assert.deepEqual([...b.take(3)], [1, 2, 3]);
  assert.equal(await b.fill(), true);
  assert.equal(src.reads, 1);
});
