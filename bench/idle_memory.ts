/**
 * Memory an idle keep-alive connection costs ferry, HTTP/1.1 against HTTP/2 (h2c): N connections
 * each serve one request and stay open; the heap and external (ArrayBuffer) growth after GC,
 * divided by N. Client sockets live in the same process and cost the same for both protocols.
 *
 *   deno run -A --unstable-net --v8-flags=--expose-gc bench/idle_memory.ts h1|h2 [N]
 *
 * @module
 */

import { startServer } from "../tests/helpers/server.ts";
import { Client, concat, FLAG, PREFACE } from "../tests/http2/frame_kit.ts";
const N = Number(Deno.args[1] ?? 1000);
const kind = Deno.args[0];
const gc = (globalThis as unknown as { gc: () => void }).gc;
await using s = await startServer({ h2c: true, keepaliveTimeout: 600, headerTimeout: 600 });
const conns: Deno.Conn[] = [];
const measure = () => {
  for (let i = 0; i < 5; i++) gc();
  return Deno.memoryUsage();
};
// warm up
for (let i = 0; i < 20; i++) {
  const c = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  conns.push(c);
}
for (const c of conns.splice(0)) c.close();
await new Promise((r) => setTimeout(r, 300));
const before = measure();
const buf = new Uint8Array(65536);
for (let i = 0; i < N; i++) {
  const c = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  if (kind === "h2") {
    const k = new Client();
    await c.write(
      concat([
        PREFACE,
        k.settings([]),
        k.settings([], FLAG.ACK),
        k.headers(1, [[":method", "GET"], [":scheme", "http"], [":authority", "t"], [":path", "/_health"]], {
          end: true,
        }),
      ]),
    );
  } else {
    await c.write(new TextEncoder().encode("GET /_health HTTP/1.1\r\nHost: t\r\n\r\n"));
  }
  await c.read(buf);
  conns.push(c);
}
await new Promise((r) => setTimeout(r, 1000));
const after = measure();
console.log(
  kind,
  N,
  "heap/conn B",
  Math.round((after.heapUsed - before.heapUsed) / N),
  "rss/conn B",
  Math.round((after.rss - before.rss) / N),
  "external/conn",
  Math.round((after.external - before.external) / N),
);
for (const c of conns) c.close();
