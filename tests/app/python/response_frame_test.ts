/**
 * A whole small answer crosses the worker's socket as one RESPONSE frame (head, body and end in
 * one), from the real WSGI and ASGI workers over their real Unix sockets; an answer that streams
 * still comes as HEAD, then its pieces, then END. ferry reads the frame with `responseParts`.
 */

import assert from "assert";
import { startAsgi, startWsgi } from "../../helpers/python.ts";
import { MarshalWriter } from "../../../src/app/python/marshal.ts";
import { writeEnviron } from "../../../src/app/python/gateway.ts";
import { nextStreamId } from "../../../src/app/python/gateway_stream.ts";
import { decodeHead, FRAME, type Frame, responseParts } from "../../../src/app/python/frames.ts";
import type { PythonWorker } from "../../../src/app/python/python_worker.ts";
import { needs } from "../../helpers/needs.ts";

const noop = () => {};

/** Sends one REQUEST (`marshalled`) to `worker` and collects its stream's frames to the last. */
async function frames(worker: PythonWorker, marshalled: Uint8Array, sid: number): Promise<Frame[]> {
  const out: Frame[] = [];
  worker.open(sid, `t-${sid}`, noop);
  try {
    worker.queueRequest(sid, 256 * 1024, marshalled, undefined);
    for (;;) {
      const f = await worker.streamFrame(sid);
      out.push(f);
      if (f.type === FRAME.End || f.type === FRAME.Error || f.type === FRAME.Response) return out;
    }
  } finally {
    worker.close(sid);
  }
}

function environ(path: string): Uint8Array {
  const w = new MarshalWriter();
  writeEnviron(w, [
    ["REQUEST_METHOD", "GET"],
    ["SCRIPT_NAME", ""],
    ["PATH_INFO", path],
    ["QUERY_STRING", ""],
    ["SERVER_PROTOCOL", "HTTP/1.1"],
    ["SERVER_NAME", "t"],
    ["SERVER_PORT", "80"],
    ["wsgi.url_scheme", "http"],
    ["ferry.request_id", "t"],
  ]);
  return w.bytes().slice();
}

Deno.test(
  "response frame: a WSGI one-piece answer is one RESPONSE frame; a streamed one is HEAD, pieces, END",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("plain_apps:app", { workers: 1 });
    const worker = s.pool.take()!;
    try {
      const whole = await frames(worker, environ("/pid"), nextStreamId());
      assert.deepEqual(whole.map((f) => f.type), [FRAME.Response]);
      const { head, body } = responseParts(whole[0].payload);
      const decoded = decodeHead(head);
      assert.equal(decoded.status, "200 OK");
      assert.deepEqual(decoded.headers, [["Content-Type", "text/plain"], [
        "Content-Length",
        String(body.length),
      ]]);
      assert.match(new TextDecoder().decode(body), /^[0-9]+$/);
      const streamed = await frames(worker, environ("/stream"), nextStreamId());
      assert.deepEqual(streamed.map((f) => f.type), [FRAME.Head, ...Array(5).fill(FRAME.Data), FRAME.End]);
    } finally {
      s.pool.release(worker);
    }
  },
);

Deno.test(
  "response frame: an ASGI start and a last body sent together are one RESPONSE frame",
  needs("read", "write", "run"),
  async () => {
    await using s = await startAsgi("asgi_apps:app", { workers: 1 });
    const worker = s.pool.take()!;
    try {
      const w = new MarshalWriter();
      w.tuple(3);
      w.dict();
      for (
        const [k, v] of [["type", "http"], ["http_version", "1.1"], ["method", "GET"], ["path", "/body"]]
      ) {
        w.text(k);
        w.text(v);
      }
      w.text("query_string");
      w.latin1Bytes("");
      w.text("headers");
      w.list(0);
      w.endDict();
      w.text("t-asgi");
      w.int(0);
      const got = await frames(worker, w.bytes().slice(), nextStreamId());
      assert.deepEqual(got.map((f) => f.type), [FRAME.Response]);
      const { head, body } = responseParts(got[0].payload);
      assert.equal(decodeHead(head).status, "200");
      assert.deepEqual(JSON.parse(new TextDecoder().decode(body)), { length: 0, pieces: 1, sum: 0 });
    } finally {
      s.pool.release(worker);
    }
  },
);
