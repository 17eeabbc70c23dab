/**
 * ferry's own conformance table against a live server over a socket: the answered requests get
 * 200 with their bodies echoed, a refusal gets its status with `Connection: close`, is counted
 * under its reason code, and the server closes; where the connection should persist, a further
 * request on it is answered.
 */

import assert from "assert";
import { CONFORMANCE } from "../http1/conformance_table.ts";
import { header, RawClient } from "../helpers/client.ts";
import { startServer } from "../helpers/server.ts";
import type { Handler } from "../../src/mod.ts";

const echo: Handler = async function echo(req, res) {
  const body = await req.body.bytes();
  await res.send(200, [], body);
};

const enc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

for (const c of CONFORMANCE) {
  Deno.test(`conformance live: ${c.name}`, async () => {
    await using s = await startServer({ handler: echo });
    await using client = await RawClient.connect(s.port);
    await client.send(enc(c.request));
    for (let i = 0; i < c.answered; i++) {
      const res = await client.response();
      assert.equal(res.status, 200, `response ${i + 1}`);
      if (c.bodies !== undefined) assert.equal(new TextDecoder().decode(res.body), c.bodies[i]);
    }
    if (c.status !== undefined) {
      const res = await client.response();
      assert.equal(res.status, c.status);
      assert.match(header(res, "connection") ?? "", /close/);
      assert.ok(await client.closed(), "the server closes after a refusal, and sends nothing more");
      assert.equal(s.server.stats.rejections.get(c.code!), 1, `counted as ${c.code}`);
    } else if (c.closes === true) {
      assert.ok(await client.closed(), "the server closes, and answers nothing more");
    } else {
      await client.send(`GET /again HTTP/1.1\r\nHost: t\r\n\r\n`);
      assert.equal((await client.response()).status, 200, "the connection persists");
    }
  });
}
