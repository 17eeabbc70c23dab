import assert from "node:assert/strict";
import { checkPriority, rstCode, windowIncrement } from "../../src/http2/frame_checks.ts";
import { ConnectionError, ERROR, StreamError } from "../../src/http2/errors.ts";
import { FRAME, type Frame } from "../../src/http2/frames.ts";

const frame = (type: number, streamId: number, payload: number[]): Frame => ({
  type,
  flags: 0,
  streamId,
  payload: new Uint8Array(payload),
});

function throwsCode(f: () => unknown, kind: typeof ConnectionError | typeof StreamError, code: number) {
  assert.throws(f, (e: unknown) => e instanceof kind && e.code === code);
}

Deno.test("frame checks: PRIORITY on stream 0, of a wrong length, depending on itself", () => {
  throwsCode(
    () => checkPriority(frame(FRAME.PRIORITY, 0, [0, 0, 0, 1, 16])),
    ConnectionError,
    ERROR.PROTOCOL_ERROR,
  );
  throwsCode(
    () => checkPriority(frame(FRAME.PRIORITY, 1, [0, 0, 0, 3])),
    StreamError,
    ERROR.FRAME_SIZE_ERROR,
  );
  throwsCode(
    () => checkPriority(frame(FRAME.PRIORITY, 3, [0x80, 0, 0, 3, 16])),
    StreamError,
    ERROR.PROTOCOL_ERROR,
  );
  checkPriority(frame(FRAME.PRIORITY, 3, [0, 0, 0, 1, 16]));
});

Deno.test("frame checks: RST_STREAM gives its code, refuses stream 0 and a wrong length", () => {
  assert.equal(rstCode(frame(FRAME.RST_STREAM, 1, [0, 0, 0, 8])), ERROR.CANCEL);
  throwsCode(() => rstCode(frame(FRAME.RST_STREAM, 0, [0, 0, 0, 8])), ConnectionError, ERROR.PROTOCOL_ERROR);
  throwsCode(() => rstCode(frame(FRAME.RST_STREAM, 1, [0, 0, 8])), ConnectionError, ERROR.FRAME_SIZE_ERROR);
});

Deno.test("frame checks: WINDOW_UPDATE gives its increment without the reserved bit", () => {
  assert.equal(windowIncrement(frame(FRAME.WINDOW_UPDATE, 0, [0x80, 0, 1, 0])), 256);
  assert.equal(windowIncrement(frame(FRAME.WINDOW_UPDATE, 1, [0, 0, 0, 0])), 0);
  throwsCode(
    () => windowIncrement(frame(FRAME.WINDOW_UPDATE, 1, [0, 0, 1, 0, 0])),
    ConnectionError,
    ERROR.FRAME_SIZE_ERROR,
  );
});
