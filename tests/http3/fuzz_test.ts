/**
 * fast-check fuzz of the HTTP/3 frame reader, the request-stream and unidirectional-stream
 * parsers and the QPACK decoder: on any bytes, in any pieces, they return or throw an
 * `H3Error` (nothing else), and what they give back is bounded by what they were given.
 */

import assert from "assert";
import fc from "fast-check";
import { FrameReader } from "../../src/http3/frames.ts";
import { RequestStream } from "../../src/http3/request_stream.ts";
import { PeerStreams, UniStream } from "../../src/http3/control.ts";
import { decodeFieldSection } from "../../src/http3/qpack.ts";
import { H3Error } from "../../src/http3/errors.ts";
import { cat, dt, fr, get, hd, T } from "./h3_kit.ts";

const LIMIT = 2048;

/** Frames that look like HTTP/3: real ones, with random payloads, types and cuts mixed in. */
const frameish = fc.oneof(
  fc.uint8Array({ maxLength: 40 }),
  fc.constantFrom(hd(get()), hd(get("/x", [["te", "trailers"]])), dt(3), fr(T.RESERVED, [1])),
  fc.tuple(fc.integer({ min: 0, max: 0x40 }), fc.uint8Array({ maxLength: 60 })).map(([t, p]) => fr(t, p)),
  fc.uint8Array({ maxLength: 60 }).map((p) => fr(T.HEADERS, cat([0, 0], p))),
);

const input = fc.tuple(fc.array(frameish, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 6 })).map(
  ([frames, cuts]) => {
    const bytes = cat(...frames);
    const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
    const pieces: Uint8Array[] = [];
    let prev = 0;
    for (const c of [...at, bytes.length]) {
      pieces.push(bytes.subarray(prev, c));
      prev = c;
    }
    return { bytes, pieces };
  },
);

function onlyH3Errors(f: () => void): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof H3Error)) throw e;
  }
}

Deno.test("h3 fuzz: the frame reader keeps no payload over its bound and gives back no more than it got", () => {
  fc.assert(
    fc.property(input, ({ bytes, pieces }) => {
      const r = new FrameReader(32);
      let out = 0;
      onlyH3Errors(() => {
        for (const p of pieces) {
          for (const ev of r.push(p)) {
            if (ev.kind === "frame") {
              assert.ok(ev.payload.length <= 32);
              out += ev.payload.length;
            } else if (ev.kind === "data") out += ev.bytes.length;
          }
        }
      });
      assert.ok(out <= bytes.length);
    }),
    { numRuns: 3000 },
  );
});

Deno.test("h3 fuzz: a request stream throws only H3Error, and its head and body are bounded by its input", () => {
  fc.assert(
    fc.property(input, fc.boolean(), ({ bytes, pieces }, fin) => {
      let wasted = 0;
      const s = new RequestStream({ waste: () => wasted++ }, LIMIT);
      let body = 0;
      let heads = 0;
      onlyH3Errors(() => {
        const evs = pieces.flatMap((p) => s.push(p));
        if (fin) evs.push(...s.end());
        for (const ev of evs) {
          if (ev.kind === "data") body += ev.bytes.length;
          if (ev.kind === "head") heads++;
        }
      });
      assert.ok(body <= bytes.length);
      assert.ok(heads <= 1);
      assert.ok(wasted <= bytes.length);
    }),
    { numRuns: 3000 },
  );
});

Deno.test("h3 fuzz: unidirectional streams of any type throw only H3Error", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 5 }), input, fc.boolean(), (type, { pieces }, fin) => {
      const s = new UniStream(new PeerStreams({ waste() {} }), 1024);
      onlyH3Errors(() => {
        s.push(new Uint8Array([type]));
        for (const p of pieces) s.push(p);
        if (fin) s.end();
      });
    }),
    { numRuns: 3000 },
  );
});

Deno.test("h3 fuzz: QPACK decoding of any bytes throws only H3Error; its output stays under the limit", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (tail, prefix) => {
      const block = prefix ? cat([0, 0], tail) : tail;
      onlyH3Errors(() => {
        const s = decodeFieldSection(block, 512);
        let size = 0;
        for (let i = 0; i < s.names.length; i++) size += s.names[i].length + s.values[i].length + 32;
        assert.ok(size <= 512);
      });
    }),
    { numRuns: 5000 },
  );
});
