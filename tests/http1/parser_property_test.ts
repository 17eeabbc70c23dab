/**
 * Property tests (fast-check): random bytes and mutations of valid requests go through the
 * parser and body decoders. Nothing may throw but a ParseError, and every ParseError carries a
 * 4xx/5xx status and a reason code.
 */

import assert from "assert";
import fc from "fast-check";
import { ParseError } from "../../src/http1/parser.ts";
import { replay, split } from "../helpers/replay.ts";
import { bytes } from "../helpers/client.ts";

const VALID = [
  "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
  "POST /p?q=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
  "PUT /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: v\r\n\r\n",
  "HEAD http://a:80/x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
  "OPTIONS * HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n",
];

async function check(input: Uint8Array, cuts: number[]): Promise<void> {
  const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
  let r;
  try {
    r = await replay(split(input, points), { maxHeaderBytes: 4096, maxTargetLength: 1024 }, 1 << 20);
  } catch (e) {
    throw new Error(`non-ParseError escaped the parser: ${e}`);
  }
  if (r.error !== undefined) {
    assert.ok(r.error instanceof ParseError);
    assert.ok(r.error.status >= 400 && r.error.status < 600, `status ${r.error.status}`);
    assert.ok(r.error.code.length > 0);
  }
}

Deno.test("property: random bytes parse or are refused with a status and a reason", async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 4 }), check),
    { numRuns: 3000 },
  );
});

Deno.test("property: mutated valid requests parse or are refused with a status and a reason", async () => {
  const mutation = fc.record({
    base: fc.constantFrom(...VALID),
    edits: fc.array(
      fc.record({
        at: fc.nat(),
        op: fc.constantFrom("flip", "insert", "delete", "dup"),
        byte: fc.integer({ min: 0, max: 255 }),
      }),
      { minLength: 1, maxLength: 6 },
    ),
    cuts: fc.array(fc.nat(), { maxLength: 4 }),
  });
  await fc.assert(
    fc.asyncProperty(mutation, async ({ base, edits, cuts }) => {
      const b = Array.from(bytes(base));
      for (const e of edits) {
        const at = e.at % (b.length + 1);
        if (e.op === "flip" && at < b.length) b[at] = e.byte;
        else if (e.op === "insert") b.splice(at, 0, e.byte);
        else if (e.op === "delete" && at < b.length) b.splice(at, 1);
        else if (e.op === "dup") b.splice(at, 0, ...b.slice(at, at + 8));
      }
      await check(Uint8Array.from(b), cuts);
    }),
    { numRuns: 5000 },
  );
});

Deno.test("property: valid requests survive any split into pieces", async () => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...VALID), fc.array(fc.nat(), { maxLength: 8 }), async (req, cuts) => {
      const input = bytes(req);
      const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
      const r = await replay(split(input, points));
      assert.equal(r.error, undefined);
      assert.equal(r.messages.length, 1);
    }),
    { numRuns: 2000 },
  );
});
