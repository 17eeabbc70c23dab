/**
 * http.disconnect while the app is silent: an ASGI app waiting in receive() after the body (a
 * long poll) gets http.disconnect when its client leaves, on HTTP/1.1, HTTPS and HTTP/2 (the
 * connection closing, or RST_STREAM), and the worker serves the next request.
 */

import assert from "assert";
import { exchange, text } from "../../helpers/client.ts";
import { PYTHON, startAsgi } from "../../helpers/python.ts";
import { until } from "../../helpers/server.ts";
import { join } from "../../helpers/paths.ts";
import { makeSelfSigned } from "../../../src/tls/cert.ts";
import { needs } from "../../helpers/needs.ts";

const material = await makeSelfSigned();

async function markerPath(): Promise<string> {
  return join(await Deno.makeTempDir({ prefix: "ferry-asgi-gone-" }), "marker");
}

function read(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

for (const secure of [false, true]) {
  const name = secure ? "HTTPS" : "HTTP/1.1";
  Deno.test(
    `asgi gone (${name}): an app waiting in receive() after the body gets http.disconnect`,
    needs("read", "write", "run"),
    async () => {
      await using s = await startAsgi(
        "asgi_apps:app",
        { workers: 1 },
        secure ? { https: true, httpsPort: 0, tlsMaterial: material } : {},
      );
      const marker = await markerPath();
      const conn = secure
        ? await Deno.connectTls({ hostname: "localhost", port: s.httpsPort, caCerts: [material.cert] })
        : await Deno.connect({ hostname: "127.0.0.1", port: s.port });
      await conn.write(
        new TextEncoder().encode(
          `POST /long-poll?${marker} HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi`,
        ),
      );
      await until(() => read(marker + ".waiting") === "waiting", "the app to wait in receive()");
      conn.close();
      await until(() => read(marker) !== undefined, "the app to record what receive() returned");
      assert.equal(read(marker), "http.disconnect");
      const next = await exchange(s.port, "GET /pid HTTP/1.1\r\nHost: t\r\n\r\n");
      assert.equal(next.status, 200);
      assert.ok(Number(text(next)) > 0);
    },
  );
}

for (const action of ["rst", "close"] as const) {
  Deno.test(
    `asgi gone (HTTP/2, ${
      action === "rst" ? "RST_STREAM" : "connection closed"
    }): the waiting app gets http.disconnect`,
    needs("read", "write", "run"),
    async () => {
      await using s = await startAsgi("asgi_apps:app", { workers: 1 }, { h2c: true });
      const marker = await markerPath();
      const script = `
import os, socket, sys, time
import h2.connection, h2.config
port, marker, action = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port))
c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
c.initiate_connection()
c.send_headers(1, [(":method", "GET"), (":scheme", "http"), (":path", "/long-poll?" + marker), (":authority", "t")], end_stream=True)
s.sendall(c.data_to_send())
give = time.time() + 10
while not os.path.exists(marker + ".waiting") and time.time() < give:
    time.sleep(0.01)
if action == "rst":
    c.reset_stream(1)
    s.sendall(c.data_to_send())
    give = time.time() + 10
    while not os.path.exists(marker) and time.time() < give:
        time.sleep(0.01)
s.close()
`;
      const out = await new Deno.Command(PYTHON, { args: ["-c", script, String(s.port), marker, action] })
        .output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      await until(() => read(marker) !== undefined, "the app to record what receive() returned");
      assert.equal(read(marker), "http.disconnect");
    },
  );
}
