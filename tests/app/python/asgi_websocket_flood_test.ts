/**
 * The WebSocket receive bound: a client that floods an ASGI app which takes nothing keeps at
 * most a bounded number of messages waiting in the worker (ferry stops reading its socket, and
 * TCP slows it); once the app reads, every message arrives, in full.
 */

import assert from "assert";
import { startAsgi } from "../../helpers/python.ts";
import { until } from "../../helpers/server.ts";
import { join } from "../../helpers/paths.ts";
import { clientFrame, openRaw } from "../../helpers/ws_frames.ts";
import { WS_QUEUE_MESSAGES } from "../../../src/app/python/asgi_websocket.ts";
import { needs } from "../../helpers/needs.ts";

const MESSAGES = 3000;

function read(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

Deno.test(
  "asgi websocket: a flood to an app that takes nothing waits in TCP, not in the worker",
  needs("read", "write", "run"),
  async () => {
    await using s = await startAsgi("asgi_apps:app", { workers: 1 });
    const marker = join(await Deno.makeTempDir({ prefix: "ferry-asgi-flood-" }), "marker");
    using ws = await openRaw(s.port, `/ws/hold?${marker}`);
    const piece = "x".repeat(1024);
    const flood = new Uint8Array(MESSAGES * (1024 + 8));
    let off = 0;
    for (let i = 0; i < MESSAGES; i++) {
      const f = clientFrame({ opcode: 1, payload: piece });
      flood.set(f, off);
      off += f.length;
    }
    const last = clientFrame({ opcode: 1, payload: "last" });
    // The whole flood is written while the app takes nothing; its write may wait on TCP.
    let written = false;
    const writing = (async () => {
      let at = 0;
      const all = flood.subarray(0, off);
      while (at < all.length) at += await ws.conn.write(all.subarray(at));
      await ws.conn.write(last);
      written = true;
    })();
    // Until the flood is written, or for a bounded while when TCP holds it back.
    const give = Date.now() + 3000;
    await until(() => written || Date.now() > give, "the flood to be written or held back");
    // The app polls every 20 ms: wait for it to see messages waiting (a loaded machine may take a while),
    // then give the rest of the flood a few of its polls to pile up, were there no bound.
    await until(() => Number(read(marker + ".max") ?? 0) >= 1, "the app to see messages waiting");
    await new Promise((r) => setTimeout(r, 200));
    const most = Number(read(marker + ".max"));
    // At most the bound, plus the messages one socket read (16 KiB) can carry.
    assert.ok(most <= WS_QUEUE_MESSAGES + 16, `${most} messages waited in the worker`);
    // The app reads now: everything arrives.
    await Deno.writeTextFile(marker + ".go", "");
    await until(() => read(marker) !== undefined, "the app to count the messages");
    assert.equal(read(marker), String(MESSAGES));
    await writing;
  },
);
