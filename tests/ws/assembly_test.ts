/** The incoming-message buffer's rules, in memory: growth with the bytes, fragment counts, the shared budget. */

import assert from "assert";
import {
  Assembly,
  assemblyBytes,
  MAX_SMALL_FRAGMENTS,
  MIN_FRAGMENT_AVERAGE,
  setAssemblyBudget,
} from "../../src/ws/assembly.ts";
import { WsProtocolError } from "../../src/ws/protocol.ts";

const closesWith = (code: number) => (e: unknown) => e instanceof WsProtocolError && e.code === code;

Deno.test("assembly: a one-frame message ends in a buffer of exactly its size, grown only as bytes arrive", () => {
  const a = new Assembly(1 << 20);
  a.begin(100_000);
  a.frame(100_000);
  assert.equal(assemblyBytes(), 0, "a declared length reserves nothing");
  a.add(new Uint8Array(10));
  assert.ok(assemblyBytes() <= 8 * 1024, `after 10 bytes: ${assemblyBytes()}`);
  for (let i = 0; i < 9_999; i++) a.add(new Uint8Array(10).fill(i & 0xff));
  assert.equal(assemblyBytes(), 100_000);
  const m = a.take();
  assert.equal(m.length, 100_000);
  assert.equal(m.buffer.byteLength, 100_000, "handed over without a copy");
  assert.equal(assemblyBytes(), 0);
});

Deno.test("assembly: fragments cost at most twice the payload; many small ones close with 1008", () => {
  const a = new Assembly(1 << 20);
  a.begin(-1);
  for (let i = 0; i < MAX_SMALL_FRAGMENTS; i++) {
    a.frame(1);
    a.add(new Uint8Array([i & 0xff]));
  }
  assert.ok(
    assemblyBytes() <= 2 * MAX_SMALL_FRAGMENTS,
    `${assemblyBytes()} bytes for ${MAX_SMALL_FRAGMENTS}`,
  );
  assert.throws(() => a.frame(1), closesWith(1008));
  a.release();
  // Past the count, fragments that average the minimum are fine.
  const b = new Assembly(64 << 20);
  b.begin(-1);
  const piece = new Uint8Array(MIN_FRAGMENT_AVERAGE);
  for (let i = 0; i < MAX_SMALL_FRAGMENTS * 2; i++) {
    b.frame(piece.length);
    b.add(piece);
  }
  assert.throws(() => b.frame(0), closesWith(1008), "an empty fragment brings the average under");
  b.release();
});

Deno.test("assembly: a message over the limit closes with 1009; past the shared budget with 1013", () => {
  const a = new Assembly(1000);
  a.begin(-1);
  a.frame(600);
  a.add(new Uint8Array(600));
  assert.throws(() => a.frame(401), closesWith(1009));
  a.release();
  setAssemblyBudget(1); // the floor: 256 MiB
  const held: Assembly[] = [];
  try {
    const chunk = new Uint8Array(1 << 20);
    assert.throws(() => {
      for (let i = 0; i < 300; i++) {
        const x = new Assembly(1 << 20);
        held.push(x);
        x.begin(1 << 20);
        x.frame(1 << 20);
        x.add(chunk);
      }
    }, closesWith(1013));
    assert.ok(assemblyBytes() <= 256 << 20);
  } finally {
    for (const x of held) x.release();
  }
  assert.equal(assemblyBytes(), 0);
});
