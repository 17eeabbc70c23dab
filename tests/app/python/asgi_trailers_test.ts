/**
 * http.response.trailers: sent to a client that said `TE: trailers` (HTTP/1.1 in the chunked
 * body's trailer section, HTTP/2 as a last HEADERS frame with END_STREAM), fields no trailer may
 * carry dropped; a client that did not say so gets the body without them, on a connection that
 * goes on.
 */

import assert from "assert";
import { RawClient } from "../../helpers/client.ts";
import { PYTHON, startAsgi } from "../../helpers/python.ts";
import { needs } from "../../helpers/needs.ts";

const latin1 = (b: Uint8Array) => String.fromCharCode(...b);

Deno.test(
  "asgi trailers (HTTP/1.1): sent in the chunked body's trailer section after TE: trailers, else dropped",
  needs("read", "write", "run"),
  async () => {
    await using s = await startAsgi("asgi_apps:app", { workers: 1 });
    await using c = await RawClient.connect(s.port);
    // Without TE first, then with it, on one connection that goes on.
    await c.send(
      "GET /trailer-section HTTP/1.1\r\nHost: t\r\n\r\n" +
        "GET /trailer-section HTTP/1.1\r\nHost: t\r\nTE: trailers\r\nConnection: close\r\n\r\n",
    );
    const raw = latin1(await c.readAll());
    const [first, second] = raw.split(/(?=HTTP\/1\.1 200 )/);
    assert.match(first, /\r\ntransfer-encoding: chunked\r\n/i);
    assert.equal(first.slice(first.indexOf("\r\n\r\n") + 4), "5\r\nbody;\r\n3\r\nend\r\n0\r\n\r\n");
    assert.equal(
      second.slice(second.indexOf("\r\n\r\n") + 4),
      "5\r\nbody;\r\n3\r\nend\r\n0\r\nx-checksum: abc123\r\nx-count: 2\r\n\r\n",
    );
  },
);

Deno.test(
  "asgi trailers (HTTP/2): a last HEADERS frame with END_STREAM carries them",
  needs("read", "write", "run"),
  async () => {
    await using s = await startAsgi("asgi_apps:app", { workers: 1 }, { h2c: true });
    const script = `
import json, socket, sys
import h2.connection, h2.config, h2.events
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(10)
c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
c.initiate_connection()
out = {}
for sid, te in ((1, True), (3, False)):
    h = [(":method", "GET"), (":scheme", "http"), (":path", "/trailer-section"), (":authority", "t")]
    c.send_headers(sid, h + ([("te", "trailers")] if te else []), end_stream=True)
    out[sid] = {"body": "", "trailers": None, "ended_by": None}
s.sendall(c.data_to_send())
open_streams = {1, 3}
while open_streams:
    data = s.recv(65536)
    if not data:
        break
    for ev in c.receive_data(data):
        if isinstance(ev, h2.events.DataReceived):
            out[ev.stream_id]["body"] += ev.data.decode()
            c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        elif isinstance(ev, h2.events.TrailersReceived):
            out[ev.stream_id]["trailers"] = [list(p) for p in ev.headers]
        elif isinstance(ev, h2.events.StreamEnded):
            open_streams.discard(ev.stream_id)
    s.sendall(c.data_to_send())
print(json.dumps(out))
`;
    const run = await new Deno.Command(PYTHON, { args: ["-c", script, String(s.port)] }).output();
    assert.ok(run.success, new TextDecoder().decode(run.stderr));
    const out = JSON.parse(new TextDecoder().decode(run.stdout));
    assert.equal(out["1"].body, "body;end");
    assert.deepEqual(out["1"].trailers, [["x-checksum", "abc123"], ["x-count", "2"]]);
    assert.equal(out["3"].body, "body;end");
    assert.equal(out["3"].trailers, null);
  },
);
