/**
 * `req.signal` (the exchange contract's "the client is gone"): a handler that stays silent after
 * the body sees its client leave, on HTTP/1.1 (end of connection, reset) and on HTTP/2
 * (RST_STREAM, the connection closing); bytes a client pipelines meanwhile are the next request
 * and are answered in order.
 */

import assert from "assert";
import { RawClient, text } from "../helpers/client.ts";
import { startServer, until } from "../helpers/server.ts";
import { PYTHON } from "../helpers/python.ts";
import type { ServerRequest } from "../../src/http/request.ts";
import type { ResponseWriter } from "../../src/http/writer.ts";
import { needs } from "../helpers/needs.ts";

/** A handler that answers `/poll` only when told to, recording whether its signal fired. */
function poller() {
  const seen: string[] = [];
  let release: () => void = () => {};
  const handler = async (req: ServerRequest, res: ResponseWriter) => {
    if (req.path !== "/poll") return await res.send(200, [], `plain ${req.path}\n`);
    await req.body.bytes();
    seen.push("waiting");
    const aborted = await new Promise<boolean>((resolve) => {
      req.signal.addEventListener("abort", () => resolve(true));
      release = () => resolve(false);
    });
    seen.push(aborted ? "gone" : "released");
    if (!aborted) await res.send(200, [], "polled\n");
  };
  return { seen, handler, release: () => release() };
}

Deno.test("client gone (HTTP/1.1): a silent handler's signal fires when the client closes", async () => {
  const p = poller();
  await using s = await startServer({ handler: p.handler });
  const c = await RawClient.connect(s.port);
  await c.send("POST /poll HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc");
  await until(() => p.seen.includes("waiting"), "the handler to wait");
  c.conn.close();
  await until(() => p.seen.includes("gone"), "the handler to see its client gone");
  assert.deepEqual(p.seen, ["waiting", "gone"]);
});

Deno.test("client gone (HTTP/1.1): a request pipelined while the handler waits is kept and answered next", async () => {
  const p = poller();
  await using s = await startServer({ handler: p.handler });
  await using c = await RawClient.connect(s.port);
  await c.send("GET /poll HTTP/1.1\r\nHost: t\r\n\r\n");
  await until(() => p.seen.includes("waiting"), "the handler to wait");
  // The next request arrives in two pieces while the first handler waits on its signal.
  await c.send("GET /next HTTP/1.1\r\nHo");
  await new Promise((r) => setTimeout(r, 50));
  await c.send("st: t\r\n\r\n");
  await new Promise((r) => setTimeout(r, 50));
  p.release();
  const first = await c.response();
  const second = await c.response();
  assert.equal(text(first), "polled\n");
  assert.equal(text(second), "plain /next\n");
  assert.deepEqual(p.seen, ["waiting", "released"]);
  // The connection goes on.
  await c.send("GET /third HTTP/1.1\r\nHost: t\r\n\r\n");
  assert.equal(text(await c.response()), "plain /third\n");
});

/** Runs a Python h2 client: GET /poll, wait for `ready` to exist, then `action` (rst or close). */
async function h2Client(port: number, ready: string, action: "rst" | "close"): Promise<void> {
  const script = `
import os, socket, sys, time
import h2.connection, h2.config
port, ready, action = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port))
c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
c.initiate_connection()
c.send_headers(1, [(":method", "GET"), (":scheme", "http"), (":path", "/poll"), (":authority", "t")], end_stream=True)
s.sendall(c.data_to_send())
give = time.time() + 10
while not os.path.exists(ready) and time.time() < give:
    time.sleep(0.01)
if action == "rst":
    c.reset_stream(1)
    s.sendall(c.data_to_send())
    time.sleep(0.5)
s.close()
`;
  const out = await new Deno.Command(PYTHON, { args: ["-c", script, String(port), ready, action] }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
}

for (const action of ["rst", "close"] as const) {
  Deno.test(
    `client gone (HTTP/2): a silent handler's signal fires on ${
      action === "rst" ? "RST_STREAM" : "the connection closing"
    }`,
    needs("read", "write", "run"),
    async () => {
      const p = poller();
      const ready = await Deno.makeTempFile();
      await Deno.remove(ready);
      const handler = async (req: ServerRequest, res: ResponseWriter) => {
        const waiting = p.handler(req, res);
        if (req.path === "/poll") await Deno.writeTextFile(ready, "1");
        await waiting;
      };
      await using s = await startServer({ handler, h2c: true });
      await h2Client(s.port, ready, action);
      await until(() => p.seen.includes("gone"), "the handler to see its client gone");
      assert.deepEqual(p.seen, ["waiting", "gone"]);
    },
  );
}
