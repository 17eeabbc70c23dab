/**
 * HPACK (RFC 7541): the Appendix C vectors, round-trip properties of the encoder and decoder and
 * of Huffman coding, the decoder's errors and bounds, and a cross-check with Debian's
 * python3-hpack in both directions.
 */

import assert from "assert";
import fc from "fast-check";
import { HpackDecoder, HpackEncoder, HpackError } from "../../src/http2/hpack.ts";
import { huffmanDecode, huffmanEncode, HuffmanError } from "../../src/field_coding/huffman.ts";
import { needs } from "../helpers/needs.ts";

const hex = (s: string) => Uint8Array.from(s.replace(/\s/g, "").match(/../g)!.map((b) => parseInt(b, 16)));
const pairs = (d: { names: string[]; values: string[] }) => d.names.map((n, i) => [n, d.values[i]]);

const REQ = [
  [[":method", "GET"], [":scheme", "http"], [":path", "/"], [":authority", "www.example.com"]],
  [[":method", "GET"], [":scheme", "http"], [":path", "/"], [":authority", "www.example.com"], [
    "cache-control",
    "no-cache",
  ]],
  [[":method", "GET"], [":scheme", "https"], [":path", "/index.html"], [":authority", "www.example.com"], [
    "custom-key",
    "custom-value",
  ]],
];
const COOKIE = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";
const RES = [
  [[":status", "302"], ["cache-control", "private"], ["date", "Mon, 21 Oct 2013 20:13:21 GMT"], [
    "location",
    "https://www.example.com",
  ]],
  [[":status", "307"], ["cache-control", "private"], ["date", "Mon, 21 Oct 2013 20:13:21 GMT"], [
    "location",
    "https://www.example.com",
  ]],
  [
    [":status", "200"],
    ["cache-control", "private"],
    ["date", "Mon, 21 Oct 2013 20:13:22 GMT"],
    [
      "location",
      "https://www.example.com",
    ],
    ["content-encoding", "gzip"],
    ["set-cookie", COOKIE],
  ],
];

/** RFC 7541 Appendix C: blocks, the fields they decode to, and the table size after each. */
const VECTORS: Array<{ name: string; table: number; blocks: string[]; want: string[][][]; sizes: number[] }> =
  [
    {
      name: "C.3 requests without Huffman",
      table: 4096,
      blocks: [
        "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
        "8286 84be 5808 6e6f 2d63 6163 6865",
        "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
      ],
      want: REQ,
      sizes: [57, 110, 164],
    },
    {
      name: "C.4 requests with Huffman",
      table: 4096,
      blocks: [
        "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
        "8286 84be 5886 a8eb 1064 9cbf",
        "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
      ],
      want: REQ,
      sizes: [57, 110, 164],
    },
    {
      name: "C.5 responses without Huffman, 256-octet table",
      table: 256,
      blocks: [
        "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
        "4803 3330 37c1 c0bf",
        "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31",
      ],
      want: RES,
      sizes: [222, 222, 215],
    },
    {
      name: "C.6 responses with Huffman, 256-octet table",
      table: 256,
      blocks: [
        "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
        "4883 640e ffc1 c0bf",
        "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
      ],
      want: RES,
      sizes: [222, 222, 215],
    },
  ];

for (const v of VECTORS) {
  Deno.test(`HPACK: RFC 7541 ${v.name}`, () => {
    const d = new HpackDecoder(v.table, 1 << 20);
    v.blocks.forEach((b, i) => {
      assert.deepEqual(pairs(d.decode(hex(b))), v.want[i], `block ${i + 1}`);
      assert.equal(d.tableSize, v.sizes[i], `table size after block ${i + 1}`);
    });
  });
}

Deno.test("HPACK: Huffman of C.4.1's authority is the RFC's bytes", () => {
  assert.deepEqual(huffmanEncode("www.example.com"), hex("f1e3 c2e5 f23a 6ba0 ab90 f4ff"));
});

const latin1 = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)) });
const name = fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz-0123456789"), minLength: 1 });

Deno.test("HPACK: Huffman round-trips every latin1 string", () => {
  fc.assert(fc.property(latin1, (s) => huffmanDecode(huffmanEncode(s)) === s), { numRuns: 2000 });
});

Deno.test("HPACK: encoder then decoder round-trip, across blocks and table-size changes", () => {
  const field = fc.tuple(
    fc.oneof(name, fc.constantFrom("content-type", "x-request-id", "date", ":status")),
    latin1,
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.array(field, { maxLength: 12 }), fc.constantFrom(-1, 0, 64, 256, 4096)), {
        maxLength: 8,
      }),
      (blocks) => {
        const e = new HpackEncoder(4096);
        const d = new HpackDecoder(4096, 1 << 20);
        for (const [fields, size] of blocks) {
          if (size >= 0) e.setMaxTableSize(size);
          assert.deepEqual(pairs(d.decode(e.encode(fields))), fields);
        }
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("HPACK: malformed blocks are errors", () => {
  const bad = [
    "80", // index 0
    "ff 7f", // index past the tables
    "be", // dynamic index 62 of an empty table
    "00 85 61", // a string past the block
    "ff ff ff ff ff 0f", // an integer too large
    "82 3f e1 1f", // a size update after a field
    "3f e1 ff 03", // a size update over the setting
    "00 81 ff 81 ff", // Huffman: 8 bits of padding
    "00 81 1f 81 00", // Huffman: padding not ones (0x00)
  ];
  for (const b of bad) assert.throws(() => new HpackDecoder(4096, 1 << 20).decode(hex(b)), HpackError, b);
  assert.throws(() => huffmanDecode(hex("ff ff ff ff")), HuffmanError); // EOS
});

Deno.test("HPACK bomb: references to a large entry stop adding fields past the list limit", () => {
  // One 4000-octet entry, then 10,000 one-octet references to it: 40 MB decoded if unbounded.
  const d = new HpackDecoder(4096, 16384);
  const insert = new Uint8Array([0x40, 0x05, ...new TextEncoder().encode("x-big"), 0x7f, 0xbd, 0x1d]);
  const block = new Uint8Array(insert.length + 3900 + 10000);
  block.set(insert);
  block.fill(0x61, insert.length, insert.length + 3900);
  block.fill(0xbe, insert.length + 3900); // index 62: the newest dynamic entry
  const out = d.decode(block);
  assert.equal(out.overflow, true);
  assert.ok(out.names.length <= 5, `${out.names.length} fields kept`);
});

Deno.test("HPACK: cross-checked with python3-hpack both ways", needs("read", "run"), async () => {
  const fields: Array<[string, string]> = [
    [":status", "200"],
    ["content-type", "text/html; charset=utf-8"],
    ["set-cookie", COOKIE],
    ["x-long", "~".repeat(300)],
    ["date", "Mon, 21 Oct 2013 20:13:22 GMT"],
  ];
  const e = new HpackEncoder(4096);
  const ours = [e.encode(fields), e.encode(fields)].map((b) => Array.from(b));
  const script = `
import sys, json
from hpack import Encoder, Decoder
fields = json.loads(sys.argv[1]); ours = json.loads(sys.argv[2])
d = Decoder()
decoded = [[[n, v] for n, v in d.decode(bytes(b))] for b in ours]
enc = Encoder()
theirs = [list(enc.encode([tuple(f) for f in fields])) for _ in range(2)]
print(json.dumps({"decoded": decoded, "theirs": theirs}))
`;
  const out = await new Deno.Command("/usr/bin/python3", {
    args: ["-c", script, JSON.stringify(fields), JSON.stringify(ours)],
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const got = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.deepEqual(got.decoded, [fields, fields]);
  const d = new HpackDecoder(4096, 1 << 20);
  for (const b of got.theirs) assert.deepEqual(pairs(d.decode(Uint8Array.from(b))), fields);
});
