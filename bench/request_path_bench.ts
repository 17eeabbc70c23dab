/**
 * `deno task bench:path`: the in-process path of one request, without sockets (see
 * `bench/request_path.ts`). A keep-alive iteration is one request: its bytes arrive, it is parsed,
 * routed, answered, its head and body encoded, the answer written and the exchange recorded, and
 * the connection waits again. A pipelined iteration is a burst of 16 such requests arriving in one
 * read and answered in one write: divide its time by 16 for a request's. The floor is the harness
 * alone (a loop that reads and writes a constant): what a keep-alive case costs above it is ferry's.
 *
 * @module
 */

import { BURST, CASES, floorConn, prepare, staticRoot } from "./request_path.ts";

const root = await staticRoot();

const floor = await floorConn();
Deno.bench({
  name: "floor: read, write a constant (no HTTP)",
  group: "keep-alive",
  baseline: true,
  async fn() {
    await floor.conn.deliver(floor.bytes);
  },
});

for (const c of CASES) {
  const keepAlive = await prepare(c, false, root);
  const pipelined = await prepare(c, true, root);
  Deno.bench({
    name: `${c.id}, keep-alive`,
    group: "keep-alive",
    async fn() {
      await keepAlive.conn.deliver(keepAlive.bytes);
    },
  });
  Deno.bench({
    name: `${c.id}, pipelined ×${BURST} (one burst)`,
    group: "pipelined",
    async fn() {
      await pipelined.conn.deliver(pipelined.bytes);
    },
  });
}
