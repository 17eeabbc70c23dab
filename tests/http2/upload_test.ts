/**
 * Request bodies over HTTP/2 at the speed of the socket: the credit a handler returns as it reads
 * (WINDOW_UPDATE) leaves at once, even when the client sends nothing until it comes. Run against
 * ferry started as users start it; `--body-timeout 0`, so that no periodic check writes it out.
 */

import assert from "assert";
import { startChild } from "../helpers/server.ts";
import { needs } from "../helpers/needs.ts";

const PEER = new URL("./h2_peer.py", import.meta.url).pathname;
const APP = new URL("./fixtures/echo_length_app.ts", import.meta.url).pathname;

Deno.test(
  "h2 upload: a body of a whole window gets all its credit back while the client waits",
  needs("read", "run"),
  async () => {
    await using child = await startChild([
      ...["--port", "0", "--no-https", "--h2c", "--app", APP, "--log-format", "none", "--body-timeout", "0"],
    ]);
    const port = new URL(child.urls[0]).port;
    const o = await new Deno.Command("/usr/bin/python3", {
      args: [PEER, "window_tail", port],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(o.code, 0, new TextDecoder().decode(o.stderr));
    const out = JSON.parse(new TextDecoder().decode(o.stdout));
    // The stream's window (1 MiB) sent, nothing more until the credit comes: all of it comes back.
    assert.equal(out.sent, 1 << 20);
    assert.equal(out.credited, out.sent, JSON.stringify(out));
    assert.equal(out.responses["1"], "200");
    assert.deepEqual(out.ended, [1]);
  },
);
