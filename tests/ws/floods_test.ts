/**
 * WebSocket floods against a ferry process (started from main.ts, its memory read from outside):
 * a message in tiny fragments, pings and echoes from a peer that stops reading. Each must leave the
 * server's memory near where it was, and a plain request made during the flood is answered before
 * the flood ends.
 */

import assert from "assert";
import { rssOf, startChild } from "../helpers/server.ts";
import { clientFrame, openRaw, type RawSocket } from "../helpers/ws_frames.ts";
import { exchange } from "../helpers/client.ts";
import { needs } from "../helpers/needs.ts";

const MiB = 1024 * 1024;

async function echoServer(extra: string[] = []) {
  return await startChild(["--app", "tests/ws/echo_app.ts", "--port", "0", "--no-https", ...extra]);
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** Samples the process's RSS until `stop` resolves; resolves with the highest figure. */
function peakRss(pid: number, stop: Promise<unknown>): Promise<number> {
  let done = false;
  stop.finally(() => done = true);
  return (async () => {
    let peak = await rssOf(pid);
    while (!done) {
      await new Promise((r) => setTimeout(r, 25));
      peak = Math.max(peak, await rssOf(pid).catch(() => 0));
    }
    return peak;
  })();
}

/** Writes `bytes` to the socket `times` times; "done" when all went, "closed" when the server ended it. */
async function pour(raw: RawSocket, bytes: Uint8Array, times: number): Promise<"done" | "closed"> {
  try {
    for (let i = 0; i < times; i++) {
      for (let off = 0; off < bytes.length;) off += await raw.conn.write(bytes.subarray(off));
    }
    return "done";
  } catch {
    return "closed";
  }
}

function repeat(frames: Uint8Array[], bytes: number): Uint8Array {
  const one = frames.reduce((n, f) => n + f.length, 0);
  const count = Math.max(1, Math.floor(bytes / one));
  const out = new Uint8Array(one * count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    for (const f of frames) {
      out.set(f, at);
      at += f.length;
    }
  }
  return out;
}

/** Runs `flood`; a GET /plain starts once the flood is under way; returns the order of the two ends. */
async function duringFlood(port: number, flood: () => Promise<unknown>, started: Promise<void>) {
  const order: string[] = [];
  const floodDone = flood().then(() => order.push("flood ended"));
  await started;
  const res = await exchange(port, "GET /plain HTTP/1.1\r\nHost: t\r\n\r\n");
  order.push(`plain ${res.status}`);
  await floodDone;
  return order;
}

Deno.test(
  "ws floods: a message in 1-byte fragments is closed with 1008; memory stays near the payload",
  needs("read", "run"),
  async () => {
    await using s = await echoServer();
    const port = portOf(s.urls[0]);
    const tiny = repeat([clientFrame({ opcode: 0, fin: false, payload: new Uint8Array([7]) })], 2 * MiB);
    const before = await rssOf(s.child.pid);
    const codes: number[] = [];
    let firstClosed!: () => void;
    const started = new Promise<void>((r) => firstClosed = r);
    const attack = async () => {
      for (let round = 0; round < 6 && codes.length === 3 * round; round++) {
        await Promise.all([0, 1, 2].map(async () => {
          using raw = await openRaw(port, "/");
          await raw.send({ opcode: 2, fin: false, payload: new Uint8Array(1) });
          await pour(raw, tiny, 1);
          const guard = setTimeout(() => raw.conn.close(), 20000); // against hanging, not a timing assertion
          for (let f = await raw.frames.next(); f !== null; f = await raw.frames.next()) {
            if (f.opcode === 8) {
              codes.push((f.payload[0] << 8) | f.payload[1]);
              break;
            }
          }
          clearTimeout(guard);
          firstClosed();
        }));
      }
    };
    const done = Promise.withResolvers<void>();
    const peak = peakRss(s.child.pid, done.promise);
    const order = await duringFlood(port, attack, started);
    done.resolve();
    const grew = (await peak) - before;
    assert.deepEqual(order, ["plain 200", "flood ended"]);
    assert.equal(codes.length, 18);
    assert.ok(codes.every((c) => c === 1008), `close codes ${codes}`);
    assert.ok(grew < 64 * MiB, `RSS grew by ${(grew / MiB).toFixed(0)} MiB`);
  },
);

Deno.test(
  "ws floods: pings from peers that do not read keep memory bounded; they are closed after --body-timeout",
  needs("read", "run"),
  async () => {
    await using s = await echoServer(["--body-timeout", "2"]);
    const port = portOf(s.urls[0]);
    const pings = repeat([clientFrame({ opcode: 9, payload: new Uint8Array(125).fill(1) })], MiB);
    const before = await rssOf(s.child.pid);
    const outcomes: string[] = [];
    let flowing!: () => void;
    const started = new Promise<void>((r) => flowing = r);
    const attack = () =>
      Promise.all([0, 1, 2, 3].map(async () => {
        using raw = await openRaw(port, "/");
        flowing();
        outcomes.push(await pour(raw, pings, 64)); // 64 MiB each, never read
      }));
    const done = Promise.withResolvers<void>();
    const peak = peakRss(s.child.pid, done.promise);
    const order = await duringFlood(port, attack, started);
    done.resolve();
    const grew = (await peak) - before;
    assert.deepEqual(order, ["plain 200", "flood ended"]);
    assert.deepEqual(outcomes, ["closed", "closed", "closed", "closed"]);
    assert.ok(grew < 64 * MiB, `RSS grew by ${(grew / MiB).toFixed(0)} MiB`);
  },
);

Deno.test(
  "ws floods: echoes to peers that do not read keep memory bounded; they are closed after --body-timeout",
  needs("read", "run"),
  async () => {
    await using s = await echoServer(["--body-timeout", "2"]);
    const port = portOf(s.urls[0]);
    const messages = repeat([clientFrame({ opcode: 2, payload: new Uint8Array(100).fill(3) })], MiB);
    const before = await rssOf(s.child.pid);
    const outcomes: string[] = [];
    let flowing!: () => void;
    const started = new Promise<void>((r) => flowing = r);
    const attack = () =>
      Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(async () => {
        using raw = await openRaw(port, "/");
        flowing();
        outcomes.push(await pour(raw, messages, 64));
      }));
    const done = Promise.withResolvers<void>();
    const peak = peakRss(s.child.pid, done.promise);
    const order = await duringFlood(port, attack, started);
    done.resolve();
    const grew = (await peak) - before;
    assert.deepEqual(order, ["plain 200", "flood ended"]);
    assert.deepEqual(outcomes, new Array(8).fill("closed"));
    assert.ok(grew < 80 * MiB, `RSS grew by ${(grew / MiB).toFixed(0)} MiB`);
  },
);
