/**
 * QPACK with a dynamic table capacity of 0: a request field section as ngtcp2's client sends it
 * (bytes seen on the wire), round-trips of any latin1 fields through ferry's encoder and decoder,
 * the static table's shape, and varints (RFC 9000 §16's examples, A.1).
 */

import assert from "assert";
import fc from "fast-check";
import { decodeFieldSection, encodeFieldSection } from "../../src/http3/qpack.ts";
import { QPACK_STATIC } from "../../src/http3/qpack_static.ts";
import { readVarint, varintEnd, writeVarint } from "../../src/http3/varint.ts";
import { huffmanEncode } from "../../src/field_coding/huffman.ts";

Deno.test("QPACK: the static table has RFC 9204's 99 entries (spot checks at both ends and between)", () => {
  assert.equal(QPACK_STATIC.length, 99);
  assert.deepEqual(QPACK_STATIC[0], [":authority", ""]);
  assert.deepEqual(QPACK_STATIC[17], [":method", "GET"]);
  assert.deepEqual(QPACK_STATIC[25], [":status", "200"]);
  assert.deepEqual(QPACK_STATIC[63], [":status", "100"]);
  assert.deepEqual(QPACK_STATIC[98], ["x-frame-options", "sameorigin"]);
});

Deno.test("QPACK: a field section as nghttp3 sends one (static refs, Huffman literals)", () => {
  const authority = huffmanEncode("localhost:8443");
  const ua = huffmanEncode("nghttp3/ngtcp2 client");
  const block = new Uint8Array([
    0x00,
    0x00, // Required Insert Count 0, Base 0
    0xd1, // :method GET (17)
    0xd7, // :scheme https (23)
    0x50,
    0x80 | authority.length,
    ...authority, // :authority, Huffman value
    0xc1, // :path / (1)
    0x5f,
    0x50,
    0x80 | ua.length,
    ...ua, // user-agent (95 = 15 + 80), Huffman value
  ]);
  const s = decodeFieldSection(block, 16384);
  assert.deepEqual(s.names, [":method", ":scheme", ":authority", ":path", "user-agent"]);
  assert.deepEqual(s.values, ["GET", "https", "localhost:8443", "/", "nghttp3/ngtcp2 client"]);
  assert.equal(s.overflow, false);
});

Deno.test("QPACK: ferry's encoder uses static entries where they match", () => {
  assert.deepEqual([...encodeFieldSection([[":status", "200"]])], [0x00, 0x00, 0xd9]);
  assert.deepEqual([...encodeFieldSection([[":status", "404"]])], [0x00, 0x00, 0xdb]);
  // content-type (name 44..54) with another value: name reference to its first entry, 44.
  const b = encodeFieldSection([["content-type", "text/x"]]);
  assert.equal(b[2], 0x5f); // 01 0 1 1111, then 44 - 15 = 29
  assert.equal(b[3], 29);
});

Deno.test("QPACK: any latin1 fields round-trip through the encoder and decoder", () => {
  const name = fc.stringMatching(/^[a-z0-9-]{1,20}$/);
  const value = fc.string({
    unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)),
    maxLength: 60,
  });
  fc.assert(
    fc.property(fc.array(fc.tuple(name, value), { maxLength: 12 }), (fields) => {
      const s = decodeFieldSection(encodeFieldSection(fields), 1 << 20);
      assert.deepEqual(s.names, fields.map(([n]) => n));
      assert.deepEqual(s.values, fields.map(([, v]) => v));
    }),
    { numRuns: 2000 },
  );
});

Deno.test("varint: RFC 9000 A.1's examples both ways; a value past 2^53 - 1 reads as 2^53 - 1", () => {
  const cases: Array<[number[], number]> = [
    [[0x25], 37],
    [[0x40, 0x25], 37],
    [[0x7b, 0xbd], 15293],
    [[0x9d, 0x7f, 0x3e, 0x7d], 494878333],
    [[0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c], 151288809941952652],
  ];
  for (const [bytes, v] of cases) {
    assert.equal(readVarint(new Uint8Array(bytes), 0), Math.min(v, Number.MAX_SAFE_INTEGER));
    assert.equal(varintEnd.pos, bytes.length);
  }
  const out = new Uint8Array(8);
  assert.deepEqual([...out.subarray(0, writeVarint(out, 0, 15293))], [0x7b, 0xbd]);
  assert.deepEqual([...out.subarray(0, writeVarint(out, 0, 494878333))], [0x9d, 0x7f, 0x3e, 0x7d]);
  assert.equal(readVarint(new Uint8Array([0x9d, 0x7f]), 0), -1);
  fc.assert(fc.property(fc.maxSafeNat(), (v) => {
    const n = writeVarint(out, 0, v);
    return readVarint(out.subarray(0, n), 0) === v && varintEnd.pos === n;
  }));
});
