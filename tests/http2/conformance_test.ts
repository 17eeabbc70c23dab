/**
 * Replays ferry's RFC 9113 table (conformance_table.ts) through the session at every split point
 * of the client's bytes, then against a live server over h2c (prior knowledge).
 */

import assert from "assert";
import { Output } from "../../src/net/output.ts";
import { H2Session } from "../../src/http2/session.ts";
import { CASES, type ConformanceCase, type Outcome } from "./conformance_table.ts";
import { Client, concat, exchange, FLAG, FRAME, type SeenFrame, ServerFrames } from "./frame_kit.ts";
import { startServer } from "../helpers/server.ts";
import { makeSelfSigned } from "../../src/tls/cert.ts";

const LAST_PING = [9, 9, 9, 9, 9, 9, 9, 9];

/** The client's bytes of a case (with the trailing PING of an `alive` case). */
function bytesOf(c: ConformanceCase): Uint8Array {
  const client = new Client();
  const sent = c.send(client);
  return "alive" in c.expect ? concat([sent, client.ping(false, 0, LAST_PING)]) : sent;
}

/** Whether the frames meet the outcome; a reason when they do not (undefined: met). */
function judge(frames: SeenFrame[], o: Outcome): string | undefined {
  const goaway = frames.find((f) => f.type === FRAME.GOAWAY);
  const rst = (stream: number) => frames.find((f) => f.type === FRAME.RST_STREAM && f.stream === stream);
  const show = () => JSON.stringify(frames.map((f) => [f.type, f.stream, f.code ?? f.flags]));
  if ("goaway" in o) return goaway?.code === o.goaway ? undefined : `expected GOAWAY ${o.goaway}: ${show()}`;
  if ("rst" in o) {
    if (goaway !== undefined && goaway.code !== 0) return `unexpected GOAWAY: ${show()}`;
    return rst(o.stream)?.code === o.rst
      ? undefined
      : `expected RST_STREAM ${o.rst} on ${o.stream}: ${show()}`;
  }
  if ("error" in o) {
    const r = rst(o.stream);
    if (r?.code === o.error || goaway?.code === o.error) return undefined;
    return `expected error ${o.error} on ${o.stream}: ${show()}`;
  }
  if (goaway !== undefined && goaway.code !== 0) return `unexpected GOAWAY: ${show()}`;
  if ("status" in o) {
    const h = frames.find((f) => f.type === FRAME.HEADERS && f.stream === o.stream);
    return h?.fields?.find(([n]) => n === ":status")?.[1] === o.status
      ? undefined
      : `expected ${o.status}: ${show()}`;
  }
  if ("dataLength" in o) {
    const d = frames.find((f) => f.type === FRAME.DATA && f.stream === o.stream);
    return d?.payload.length === o.dataLength ? undefined : `expected DATA of ${o.dataLength}: ${show()}`;
  }
  if (frames.some((f) => f.type === FRAME.RST_STREAM)) return `unexpected RST_STREAM: ${show()}`;
  const ack = frames.find((f) =>
    f.type === FRAME.PING && (f.flags & FLAG.ACK) !== 0 && f.payload.every((b, i) => b === LAST_PING[i])
  );
  return ack !== undefined ? undefined : `expected the PING answered: ${show()}`;
}

/** Feeds `bytes` to a fresh session in two pieces split at `at`; returns the frames it wrote. */
async function replay(bytes: Uint8Array, at: number): Promise<SeenFrame[]> {
  const written: Uint8Array[] = [];
  const out = new Output({ write: (p) => (written.push(p.slice()), Promise.resolve(p.length)) });
  const session = new H2Session(out, {}, {
    request: (s) => {
      session.sendHeaders(s, [[":status", "200"]], false);
      // A writer in miniature: what the windows hold back goes when they open.
      let body = new TextEncoder().encode("ok\n");
      const pump = () => {
        body = body.subarray(session.sendData(s, body, true));
        if (body.length > 0 && s.active) s.windowWaiter = pump;
      };
      pump();
    },
  });
  session.start();
  for (const piece of [bytes.subarray(0, at), bytes.subarray(at)]) {
    session.push(piece);
    session.process();
  }
  await out.flush();
  const seen = new ServerFrames();
  seen.add(concat(written));
  return seen.frames.slice(2); // the server's SETTINGS and WINDOW_UPDATE
}

Deno.test("RFC 9113 table: every case at every split point through the session", async () => {
  let runs = 0;
  for (const c of CASES) {
    const bytes = bytesOf(c);
    const step = bytes.length > 4096 ? 131 : 1;
    for (let at = 0; at <= bytes.length; at += step) {
      const why = judge(await replay(bytes, at), c.expect);
      assert.equal(why, undefined, `§${c.section} ${c.name}, split at ${at}: ${why}`);
      runs++;
    }
  }
  assert.ok(runs > CASES.length * 50);
});

Deno.test("RFC 9113 table: every case against a live server over h2c", async () => {
  await using srv = await startServer({
    h2c: true,
    handler: async (req, res) => {
      await req.body.bytes();
      await res.send(200, [["content-type", "text/plain"]], "ok\n");
    },
  });
  const failures: string[] = [];
  for (const c of CASES.filter((c) => !c.sessionOnly)) {
    const o = c.expect;
    const { frames } = await exchange(srv.port, bytesOf(c), (fs) => judge(fs.slice(2), o) === undefined);
    const why = judge(frames.slice(2), o);
    if (why !== undefined) failures.push(`§${c.section} ${c.name}: ${why}`);
  }
  assert.deepEqual(failures, []);
});

Deno.test("RFC 9113 table: every case against a live server over TLS (ALPN h2)", async () => {
  const tlsMaterial = await makeSelfSigned();
  await using srv = await startServer({
    https: true,
    httpsPort: 0,
    tlsMaterial,
    handler: async (req, res) => {
      await req.body.bytes();
      await res.send(200, [["content-type", "text/plain"]], "ok\n");
    },
  });
  const failures: string[] = [];
  for (const c of CASES) {
    const o = c.expect;
    const { frames } = await exchange(
      srv.httpsPort,
      bytesOf(c),
      (fs) => judge(fs.slice(2), o) === undefined,
      5000,
      tlsMaterial.cert,
    );
    const why = judge(frames.slice(2), o);
    if (why !== undefined) failures.push(`§${c.section} ${c.name}: ${why}`);
  }
  assert.deepEqual(failures, []);
});
