/**
 * Replays {@linkcode PROTOCOL_TABLE} against a live ferry running the echo app: raw frames over
 * `Deno.connect`, the server's frames read back and compared one by one, and the connection's
 * end checked (a failed connection ends with the close frame and then EOF).
 */

import assert from "assert";
import zlib from "node:zlib";
import { startServer } from "../helpers/server.ts";
import { fetchHandler } from "../../src/app/fetch.ts";
import { clientFrame, closeBody, type FrameReader, openRaw, type ServerFrame } from "../helpers/ws_frames.ts";
import { type Expect, PROTOCOL_TABLE, type Row, TABLE_MAX_MESSAGE } from "./protocol_table.ts";
import echoApp from "./echo_app.ts";

const dec = new TextDecoder("utf-8", { ignoreBOM: true });

function inflate(f: ServerFrame): Uint8Array {
  if (!f.rsv1) return f.payload;
  const input = new Uint8Array(f.payload.length + 4);
  input.set(f.payload);
  input.set([0, 0, 0xff, 0xff], f.payload.length);
  return new Uint8Array(zlib.inflateRawSync(input, { finishFlush: zlib.constants.Z_SYNC_FLUSH }));
}

function describe(f: ServerFrame | null): string {
  if (f === null) return "the connection's end";
  const p = f.payload;
  const code = f.opcode === 8 && p.length >= 2 ? ` code ${(p[0] << 8) | p[1]}` : "";
  return `opcode ${f.opcode}${code} (${p.length} bytes)`;
}

function check(row: Row, want: Expect, got: ServerFrame | null): void {
  const where = `${row.id} ${row.what}: expected ${JSON.stringify(want).slice(0, 80)}, got ${describe(got)}`;
  assert.ok(got !== null, where);
  assert.equal(got.masked, false, `${row.id}: server frames are never masked`);
  assert.equal(got.fin, true, `${row.id}: server messages are single frames`);
  if ("text" in want) {
    assert.equal(got.opcode, 1, where);
    assert.equal(dec.decode(inflate(got)), want.text, where);
  } else if ("binary" in want) {
    assert.equal(got.opcode, 2, where);
    assert.deepEqual(inflate(got), want.binary, where);
  } else if ("pong" in want) {
    assert.equal(got.opcode, 10, where);
    const p = typeof want.pong === "string" ? new TextEncoder().encode(want.pong) : want.pong;
    assert.deepEqual(got.payload, p, where);
  } else {
    assert.equal(got.opcode, 8, where);
    if (want.close === "empty") assert.equal(got.payload.length, 0, where);
    else {
      assert.ok(got.payload.length >= 2, where);
      assert.equal((got.payload[0] << 8) | got.payload[1], want.close, where);
    }
  }
}

/** The next frame, or null if none comes within a guard time (a hung server fails the row). */
async function nextOrNull(frames: FrameReader, conn: Deno.Conn): Promise<ServerFrame | null> {
  const guard = setTimeout(() => conn.close(), 10000);
  try {
    return await frames.next();
  } finally {
    clearTimeout(guard);
  }
}

async function runRow(port: number, row: Row): Promise<void> {
  const extra = row.deflate ? ["Sec-WebSocket-Extensions: permessage-deflate"] : [];
  using ws = await openRaw(port, "/", extra);
  if (row.deflate) assert.match(ws.head, /sec-websocket-extensions: permessage-deflate/i, row.id);
  const parts = row.send.map(clientFrame);
  let all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  if (row.cut !== undefined) all = all.subarray(0, row.cut);
  if (row.chunk !== undefined) {
    for (let i = 0; i < all.length; i += row.chunk) await ws.conn.write(all.subarray(i, i + row.chunk));
  } else await ws.conn.write(all);
  for (const want of row.expect) check(row, want, await nextOrNull(ws.frames, ws.conn));
  const last = row.expect[row.expect.length - 1];
  if (!("close" in last)) {
    // Still open: a normal close ends it.
    await ws.conn.write(clientFrame({ opcode: 8, payload: closeBody(1000) }));
    check(row, { close: 1000 }, await nextOrNull(ws.frames, ws.conn));
  }
  const guard = setTimeout(() => ws.conn.close(), 10000);
  try {
    assert.ok(await ws.frames.ended(), `${row.id}: the server closes the connection after the close frame`);
  } finally {
    clearTimeout(guard);
  }
}

Deno.test("WebSocket protocol table: every case, live", async (t) => {
  await using s = await startServer({ handler: fetchHandler(echoApp), wsMaxMessageBytes: TABLE_MAX_MESSAGE });
  for (const row of PROTOCOL_TABLE) {
    await t.step(`${row.id} ${row.what}`, () => runRow(s.port, row));
  }
  const m = s.server.stats;
  assert.equal(m.wsOpened, PROTOCOL_TABLE.length);
  assert.equal(m.wsOpen, 0);
  const failed = PROTOCOL_TABLE.filter((r) => {
    const last = r.expect[r.expect.length - 1];
    return "close" in last && typeof last.close === "number" && [1002, 1007, 1009].includes(last.close);
  }).length;
  const counted = ["1002", "1007", "1009"].reduce((n, c) => n + (m.wsCloses.get(c) ?? 0), 0);
  assert.equal(counted, failed, "each failed connection is counted under its close code");
});
