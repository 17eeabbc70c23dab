/**
 * The session against arbitrary frames (fast-check): after a valid preface, any sequence of
 * frames of any type, flags, stream and payload, split anywhere, never makes it throw; it either
 * goes on or ends the connection with a GOAWAY, and what it writes is well-formed frames.
 */

import assert from "assert";
import fc from "fast-check";
import { Output } from "../../src/net/output.ts";
import { H2Session } from "../../src/http2/session.ts";
import { Client, concat, FRAME, frame, get, ServerFrames } from "./frame_kit.ts";

const anyFrame = fc.record({
  type: fc.integer({ min: 0, max: 10 }),
  flags: fc.integer({ min: 0, max: 255 }),
  stream: fc.oneof(fc.constantFrom(0, 1, 3, 5), fc.integer({ min: 0, max: 0x7fffffff })),
  payload: fc.uint8Array({ maxLength: 64 }),
});

Deno.test("session fuzz: arbitrary frames never throw; the output stays well-formed", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(anyFrame, { maxLength: 20 }), fc.nat(), async (frames, cut) => {
      const written: Uint8Array[] = [];
      const out = new Output({ write: (p) => (written.push(p.slice()), Promise.resolve(p.length)) });
      const session = new H2Session(out, {}, {
        request: (s) => session.sendHeaders(s, [[":status", "200"]], true),
      });
      session.start();
      const c = new Client();
      const bytes = concat([
        c.start(),
        c.headers(1, get(), { end: false }),
        ...frames.map((f) => frame(f.type, f.flags, f.stream, f.payload)),
      ]);
      const at = cut % (bytes.length + 1);
      for (const piece of [bytes.subarray(0, at), bytes.subarray(at)]) {
        session.push(piece);
        session.process();
      }
      await out.flush();
      const seen = new ServerFrames();
      seen.add(concat(written)); // throws on a malformed frame or header block
      const goaways = seen.frames.filter((f) => f.type === FRAME.GOAWAY);
      assert.ok(goaways.length <= 1);
      assert.equal(session.failed, goaways.length === 1);
    }),
    { numRuns: 3000 },
  );
});
