/**
 * The prefix integers HPACK and QPACK share: RFC 7541 Appendix C.1's examples both ways, every
 * prefix round-trips, and the decoder's bounds (past the input, over 2^31 - 1) are errors.
 */

import assert from "assert";
import fc from "fast-check";
import {
  cursor,
  MAX_PREFIX_INT_BYTES,
  PrefixIntError,
  readPrefixInt,
  writePrefixInt,
} from "../../src/field_coding/prefix_int.ts";

function encode(pattern: number, prefix: number, value: number): number[] {
  const out = new Uint8Array(MAX_PREFIX_INT_BYTES);
  return [...out.subarray(0, writePrefixInt(out, 0, pattern, prefix, value))];
}

Deno.test("prefix int: RFC 7541 C.1.1-C.1.3 (10 in 5 bits, 1337 in 5 bits, 42 in 8 bits)", () => {
  assert.deepEqual(encode(0, 5, 10), [0x0a]);
  assert.deepEqual(encode(0, 5, 1337), [0x1f, 0x9a, 0x0a]);
  assert.deepEqual(encode(0, 8, 42), [0x2a]);
  assert.equal(readPrefixInt(new Uint8Array([0xea]), 0, 5), 10); // high bits are the pattern's
  assert.equal(readPrefixInt(new Uint8Array([0x00, 0x1f, 0x9a, 0x0a, 0x77]), 1, 5), 1337);
  assert.equal(cursor.pos, 4);
});

Deno.test("prefix int: every value up to 2^31 - 1 round-trips in every prefix, pattern kept", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 0x7fffffff }), (prefix, v) => {
      const pattern = prefix === 8 ? 0 : (0xff << prefix) & 0xa5;
      const bytes = new Uint8Array(encode(pattern, prefix, v));
      return readPrefixInt(bytes, 0, prefix) === v && cursor.pos === bytes.length &&
        (bytes[0] & ~((1 << prefix) - 1) & 0xff) === pattern;
    }),
    { numRuns: 3000 },
  );
});

Deno.test("prefix int: truncated, over-long and over 2^31 - 1 are errors", () => {
  assert.throws(() => readPrefixInt(new Uint8Array([]), 0, 5), PrefixIntError);
  assert.throws(() => readPrefixInt(new Uint8Array([0x1f, 0x9a]), 0, 5), PrefixIntError);
  assert.throws(
    () => readPrefixInt(new Uint8Array([0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), 0, 5),
    PrefixIntError,
  );
  assert.throws(
    () => readPrefixInt(new Uint8Array([0x1f, 0xff, 0xff, 0xff, 0xff, 0x0f]), 0, 5),
    PrefixIntError,
  );
  assert.equal(readPrefixInt(new Uint8Array(encode(0, 5, 0x7fffffff)), 0, 5), 0x7fffffff);
});
