/**
 * The ferry ↔ Python worker framing: frames survive every split of the byte stream, one frame or a
 * batch of many requests' frames, on ferry's side and on the worker's (`protocol.py`).
 */

import assert from "assert";
import fc from "fast-check";
import { PYTHON } from "../../helpers/python.ts";
import { MarshalWriter } from "../../../src/app/python/marshal.ts";
import { writeEnviron } from "../../../src/app/python/gateway.ts";
import {
  creditPayload,
  decodeHead,
  encodeFrame,
  FRAME,
  FRAME_HEADER_BYTES,
  FrameReader,
  MAX_FRAME_BYTES,
  requestFrame,
} from "../../../src/app/python/frames.ts";
import { needs } from "../../helpers/needs.ts";

function feed(reader: FrameReader, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) {
    const space = reader.space();
    const n = Math.min(space.length, bytes.length - off);
    space.set(bytes.subarray(off, off + n));
    reader.added(n);
    off += n;
  }
}

Deno.test("frames: a stream of frames read back at every split point, in order", () => {
  const payload = new Uint8Array(70_000).map((_, i) => i & 0xff);
  const stream = new Uint8Array([
    ...encodeFrame(FRAME.Head, 3, new Uint8Array([1, 2, 3])),
    ...encodeFrame(FRAME.Data, 3, payload),
    ...encodeFrame(FRAME.End, 3),
  ]);
  for (const at of [1, 5, 9, 10, 100, 70_009, stream.length - 1]) {
    const reader = new FrameReader();
    const got = [];
    feed(reader, stream.subarray(0, at));
    for (let f = reader.next(); f; f = reader.next()) got.push(f);
    feed(reader, stream.subarray(at));
    for (let f = reader.next(); f; f = reader.next()) got.push(f);
    assert.deepEqual(got.map((f) => [f.type, f.stream, f.payload.length]), [
      [FRAME.Head, 3, 3],
      [FRAME.Data, 3, 70_000],
      [FRAME.End, 3, 0],
    ], `split at ${at}`);
    assert.deepEqual(got[1].payload, payload);
  }
});

/** Runs `code` under Debian's python3 with `protocol.py` importable as ferry_protocol; stdin in, stdout out. */
async function python(code: string, stdin: Uint8Array): Promise<string> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.copyFile(
      new URL("../../../src/app/python/protocol.py", import.meta.url),
      `${dir}/ferry_protocol.py`,
    );
    const child = new Deno.Command(PYTHON, {
      args: ["-c", code],
      cwd: dir,
      env: { PYTHONPATH: dir },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = child.stdin.getWriter();
    await w.write(stdin);
    await w.close();
    const out = await child.output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    return new TextDecoder().decode(out.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test(
  "frames: a request frame carries credit, the marshalled environ and the body, as Python reads it",
  needs("read", "write", "run"),
  async () => {
    const w = new MarshalWriter();
    writeEnviron(w, [["PATH_INFO", "/caf\u00c3\u00a9"], ["A", ""], ["LONG", "x".repeat(300)], [
      "NUL",
      "a\0b",
    ]]);
    const f = requestFrame(9, 4096, w.bytes(), new Uint8Array([7, 8]));
    const v = new DataView(f.buffer);
    assert.equal(v.getUint8(0), FRAME.Request);
    assert.equal(v.getUint32(1), 9);
    assert.equal(v.getUint32(5), f.length - FRAME_HEADER_BYTES);
    assert.equal(v.getUint32(9), 4096);
    const got = JSON.parse(
      await python(
        `import sys, json, ferry_protocol as p
data = sys.stdin.buffer.read()
frames, rest = p.split_frames(data)
(kind, sid, payload), = frames
credit, environ, body = p.decode_request(payload)
print(json.dumps([kind, sid, rest, credit, environ, list(body), environ["PATH_INFO"].encode("latin-1").decode("utf-8")]))`,
        f,
      ),
    );
    assert.deepEqual(got, [
      FRAME.Request,
      9,
      f.length,
      4096,
      { PATH_INFO: "/caf\u00c3\u00a9", A: "", LONG: "x".repeat(300), NUL: "a\0b" },
      [7, 8],
      "/caf\u00e9",
    ]);
    assert.deepEqual([...creditPayload(65536)], [0, 1, 0, 0]);
  },
);

/** Random frames of several requests, as ferry batches them into one write. */
const batches = fc.array(
  fc.record({
    type: fc.constantFrom(
      FRAME.Request,
      FRAME.Body,
      FRAME.Credit,
      FRAME.Cancel,
      FRAME.Head,
      FRAME.Data,
      FRAME.End,
    ),
    stream: fc.integer({ min: 1, max: 0xffffffff }),
    payload: fc.uint8Array({ maxLength: 300 }),
  }),
  { minLength: 1, maxLength: 12 },
);

Deno.test("frames: a batch of many requests' frames reads back whole and in order from any chunking", () => {
  fc.assert(
    fc.property(
      batches,
      fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
      (frames, cuts) => {
        const bytes = concat(frames.map((f) => encodeFrame(f.type, f.stream, f.payload)));
        const reader = new FrameReader();
        const got: Array<{ type: number; stream: number; payload: Uint8Array }> = [];
        let off = 0;
        for (let i = 0; off < bytes.length; i++) {
          const n = Math.min(cuts[i % cuts.length], bytes.length - off);
          feed(reader, bytes.subarray(off, off + n));
          off += n;
          for (let f = reader.next(); f; f = reader.next()) got.push(f);
        }
        assert.deepEqual(
          got.map((f) => [f.type, f.stream, [...f.payload]]),
          frames.map((f) => [f.type, f.stream, [...f.payload]]),
        );
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test(
  "frames: the Python side splits a batch into the same frames at every cut",
  needs("read", "write", "run"),
  async () => {
    const samples = fc.sample(batches, 40);
    const streams = samples.map((frames) =>
      concat(frames.map((f) => encodeFrame(f.type, f.stream, f.payload)))
    );
    // One Python run checks every sample at every cut point: the whole frames before the cut, then
    // the rest once the remainder arrives, must be the batch in order.
    const input = concat(streams.map((s) => concat([u32(s.length), s])));
    const out = await python(
      `import sys, ferry_protocol as p
data = sys.stdin.buffer.read()
pos, results = 0, []
while pos < len(data):
    n = int.from_bytes(data[pos:pos + 4], "big"); batch = data[pos + 4:pos + 4 + n]; pos += 4 + n
    whole, end = p.split_frames(batch)
    for cut in range(len(batch) + 1):
        first, at = p.split_frames(batch[:cut])
        rest, stop = p.split_frames(bytearray(batch[at:]))
        assert first + rest == whole and at + stop == end == len(batch), cut
    results.append(";".join("%d,%d,%s" % (k, s, b.hex()) for k, s, b in whole))
print("\\n".join(results))`,
      input,
    );
    const expected = samples.map((frames) =>
      frames.map((f) =>
        `${f.type},${f.stream},${[...f.payload].map((b) => b.toString(16).padStart(2, "0")).join("")}`
      )
        .join(";")
    );
    assert.deepEqual(out.trimEnd().split("\n"), expected);
  },
);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

Deno.test("frames: a HEAD payload decodes; a truncated one and an oversized frame are refused", () => {
  const enc = (s: string) => [0, 0, 0, s.length, ...new TextEncoder().encode(s)];
  const head = new Uint8Array([...enc("201 Created"), 0, 0, 0, 1, ...enc("X-A"), ...enc("b")]);
  assert.deepEqual(decodeHead(head), { status: "201 Created", headers: [["X-A", "b"]] });
  assert.throws(() => decodeHead(head.subarray(0, head.length - 1)), RangeError);
  const reader = new FrameReader();
  const big = new Uint8Array(FRAME_HEADER_BYTES);
  new DataView(big.buffer).setUint32(5, MAX_FRAME_BYTES + 1);
  feed(reader, big);
  assert.throws(() => reader.next(), RangeError);
});
