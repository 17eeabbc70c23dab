/**
 * The frame parser at every split point: random sequences of valid client frames (fragmented
 * messages with control frames between fragments, every length form) give the same frames and
 * payloads however the bytes are cut; malformed input fails with the same close code however it
 * is cut.
 */

import assert from "assert";
import fc from "fast-check";
import { FrameParser, type FrameSink } from "../../src/ws/frame_parser.ts";
import { WsProtocolError } from "../../src/ws/protocol.ts";
import { type ClientFrame, clientFrame } from "../helpers/ws_frames.ts";

interface Seen {
  fin: boolean;
  compressed: boolean;
  opcode: number;
  length: number;
  payload: string;
  ended: boolean;
}

/** A fingerprint of bytes: length and FNV-1a (cheap enough to run at every split). */
function hex(b: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return `${b.length}:${(h >>> 0).toString(16)}`;
}

class Recorder implements FrameSink {
  frames: Seen[] = [];
  #pieces: Uint8Array[] = [];
  frameStart(fin: boolean, compressed: boolean, opcode: number, length: number): void {
    this.frames.push({ fin, compressed, opcode, length, payload: "", ended: false });
    this.#pieces = [];
  }
  payload(bytes: Uint8Array): void {
    this.#pieces.push(bytes.slice());
  }
  frameEnd(): void {
    const f = this.frames[this.frames.length - 1];
    const all = new Uint8Array(this.#pieces.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of this.#pieces) {
      all.set(p, at);
      at += p.length;
    }
    f.payload = hex(all);
    f.ended = true;
  }
}

function concat(frames: ClientFrame[]): Uint8Array {
  const parts = frames.map(clientFrame);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Feeds `bytes` cut at `cuts` (a copy each time: the parser unmasks in place). */
function feed(bytes: Uint8Array, cuts: number[], allowCompressed = true): Recorder | WsProtocolError {
  const r = new Recorder();
  const p = new FrameParser(r, { maxFramePayload: 1 << 20, allowCompressed });
  const copy = bytes.slice();
  let from = 0;
  try {
    for (const c of [...cuts, copy.length]) {
      p.push(copy, from, c);
      from = c;
    }
  } catch (e) {
    if (e instanceof WsProtocolError) return e;
    throw e;
  }
  return r;
}

const payload = fc.oneof(
  { arbitrary: fc.uint8Array({ maxLength: 20 }), weight: 6 },
  { arbitrary: fc.uint8Array({ minLength: 120, maxLength: 300 }), weight: 3 },
  { arbitrary: fc.constant(new Uint8Array(65536 + 3).fill(9)), weight: 1 },
);
const control = fc.record({
  opcode: fc.constantFrom(0x9, 0xa),
  payload: fc.uint8Array({ maxLength: 125 }),
});
const message = fc.record({
  opcode: fc.constantFrom(0x1, 0x2),
  compressed: fc.boolean(),
  fragments: fc.array(payload, { minLength: 1, maxLength: 4 }),
  between: fc.array(control, { maxLength: 2 }),
});

/** Frames for messages: fragments, with the control frames after the first fragment. */
type Message = typeof message extends fc.Arbitrary<infer M> ? M : never;

function framesOf(messages: Message[]): ClientFrame[] {
  const out: ClientFrame[] = [];
  for (const m of messages) {
    m.fragments.forEach((f, i) => {
      const last = i === m.fragments.length - 1;
      out.push({
        opcode: i === 0 ? m.opcode : 0,
        payload: f,
        fin: last,
        rsv: i === 0 && m.compressed ? 4 : 0,
      });
      if (i === 0) { for (const c of m.between) out.push({ opcode: c.opcode, payload: c.payload }); }
    });
  }
  return out;
}

Deno.test("frame parser: valid frames give the same result at every split point", () => {
  fc.assert(
    fc.property(fc.array(message, { minLength: 1, maxLength: 3 }), (messages) => {
      const frames = framesOf(messages);
      const bytes = concat(frames);
      const whole = feed(bytes, []);
      assert.ok(!(whole instanceof WsProtocolError), `valid input refused: ${String(whole)}`);
      // The frames are those that were sent.
      assert.equal(whole.frames.length, frames.length);
      whole.frames.forEach((f, i) => {
        assert.equal(f.opcode, frames[i].opcode);
        assert.equal(f.fin, frames[i].fin ?? true);
        assert.equal(f.compressed, (frames[i].rsv ?? 0) === 4);
        assert.equal(f.payload, hex(frames[i].payload as Uint8Array));
        assert.ok(f.ended);
      });
      // Every split point (inputs with a 64 KiB frame: every split in the first and last 100
      // bytes, and 50 spread between).
      const points = bytes.length <= 4000 ? Array.from({ length: bytes.length + 1 }, (_, i) => i) : [
        ...Array.from({ length: 100 }, (_, i) => i),
        ...Array.from({ length: 100 }, (_, i) => bytes.length - i),
        ...Array.from({ length: 50 }, (_, i) => Math.floor((bytes.length * i) / 50)),
      ];
      for (const at of points) {
        const split = feed(bytes, [at]);
        assert.deepEqual(split, whole, `split at ${at} of ${bytes.length}`);
      }
      return true;
    }),
    { numRuns: 60 },
  );
});

Deno.test("frame parser: byte-at-a-time equals whole", () => {
  const frames: ClientFrame[] = [
    { opcode: 1, payload: "hello", fin: false },
    { opcode: 9, payload: "p" },
    { opcode: 0, payload: new Uint8Array(300).fill(1) },
    { opcode: 2, payload: new Uint8Array(70000).fill(2) },
  ];
  const bytes = concat(frames);
  const whole = feed(bytes, []);
  const dribbled = feed(bytes, Array.from({ length: bytes.length - 1 }, (_, i) => i + 1));
  assert.deepEqual(dribbled, whole);
});

const BAD: Array<[string, ClientFrame[], number]> = [
  ["unmasked", [{ opcode: 1, payload: "x", mask: false }], 1002],
  ["RSV2", [{ opcode: 1, payload: "x", rsv: 2 }], 1002],
  ["opcode 3", [{ opcode: 3 }], 1002],
  ["opcode 11", [{ opcode: 11 }], 1002],
  ["fragmented ping", [{ opcode: 9, fin: false }], 1002],
  ["ping of 126", [{ opcode: 9, payload: new Uint8Array(126) }], 1002],
  ["continuation first", [{ opcode: 0, payload: "x" }], 1002],
  ["text inside text", [{ opcode: 1, payload: "a", fin: false }, { opcode: 1, payload: "b" }], 1002],
  [
    "RSV1 on continuation",
    [{ opcode: 1, payload: "a", fin: false }, { opcode: 0, payload: "b", rsv: 4 }],
    1002,
  ],
  ["non-minimal 16-bit", [{ opcode: 2, payload: "abc", lengthForm: 16 }], 1002],
  ["non-minimal 64-bit", [{ opcode: 2, payload: "abc", lengthForm: 64 }], 1002],
  ["over the limit", [{ opcode: 2, payload: new Uint8Array((1 << 20) + 1) }], 1009],
];

Deno.test("frame parser: malformed input fails with the same code at every split point", () => {
  for (const [what, frames, code] of BAD) {
    const bytes = concat(frames);
    const headEnd = Math.min(bytes.length, 64);
    for (let at = 0; at <= headEnd; at++) {
      const r = feed(bytes, [at]);
      assert.ok(r instanceof WsProtocolError, `${what}: refused (split at ${at})`);
      assert.equal(r.code, code, `${what}: close code (split at ${at})`);
    }
  }
  // RSV1 is refused unless permessage-deflate was agreed.
  const r = feed(clientFrame({ opcode: 1, payload: "x", rsv: 4 }), [], false);
  assert.ok(r instanceof WsProtocolError && r.code === 1002);
});
