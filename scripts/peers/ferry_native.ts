/**
 * ferry with a native handler for `/hello` (no app adapter), to measure the engine alone in
 * `deno task bench`. Run: `deno run -A scripts/peers/ferry_native.ts PORT`.
 *
 * @module
 */

import { Server } from "../../src/mod.ts";

const port = Number(Deno.args[0] ?? 8083);
const body = new TextEncoder().encode("Hello, World!");
const headers: [string, string][] = [["Content-Type", "text/plain; charset=utf-8"]];
const server = new Server({
  host: "127.0.0.1",
  port,
  https: false,
  logFormat: "none",
  metrics: Deno.env.get("METRICS") !== "0",
}, {
  app: (_req, res) => res.send(200, headers, body),
});
await server.listen();
console.log(`ferry-native listening on ${port}`);
Deno.addSignalListener("SIGINT", () => server.shutdown());
Deno.addSignalListener("SIGTERM", () => server.shutdown());
await server.finished;
