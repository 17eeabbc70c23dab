/**
 * The request streams' reader: bytes come in its own buffer, small until a read fills it, then
 * 64 KiB (Deno's default reader takes 64 KiB for every read, however few bytes came); the end is
 * null; a stream that errors rejects.
 */

import assert from "assert";
import { StreamReader } from "../../src/http3/stream_reader.ts";

/** A byte stream handing out `pieces`, then its end (or `fail`). */
function bytes(pieces: Uint8Array[], fail?: Error): ReadableStream<Uint8Array> {
  return new ReadableStream({
    type: "bytes",
    pull(c) {
      const p = pieces.shift();
      if (p !== undefined) return c.enqueue(p);
      if (fail !== undefined) return c.error(fail);
      c.close();
      c.byobRequest?.respond(0);
    },
  });
}

Deno.test("stream reader: small reads share a 4 KiB buffer; one that fills it moves to 64 KiB", async () => {
  const r = new StreamReader(bytes([
    new Uint8Array([1, 2, 3]),
    new Uint8Array(5000).fill(7),
    new Uint8Array([9]),
  ]));
  const a = await r.read();
  assert.deepEqual([...a!], [1, 2, 3]);
  assert.equal(a!.buffer.byteLength, 4096);
  const b = await r.read(); // 4096 of the 5000: the buffer is full
  assert.equal(b!.length, 4096);
  const c = await r.read(); // the other 904, into 64 KiB
  assert.equal(c!.length, 904);
  assert.equal(c!.buffer.byteLength, 64 * 1024);
  assert.deepEqual([...(await r.read())!], [9]);
  assert.equal(await r.read(), null);
});

Deno.test("stream reader: a stream that errors (a reset) rejects the read", async () => {
  const r = new StreamReader(bytes([], new Error("reset")));
  await assert.rejects(() => r.read(), /reset/);
});
