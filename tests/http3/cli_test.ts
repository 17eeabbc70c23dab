/**
 * `--http3` on the command line: it is off by default (no UDP listener, no Alt-Svc); it needs the
 * HTTPS listener; it runs in one isolate. Each refusal names what to change and exits 2.
 */

import assert from "assert";
import { runFerry } from "../helpers/server.ts";
import { needsQuic } from "./needs_quic.ts";

Deno.test(
  "h3 cli: --http3 with --workers 2 exits 2 naming both flags",
  needsQuic("read", "run"),
  async () => {
    const r = await runFerry(["--http3", "--workers", "2", "--port", "0", "--https-port", "0"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--http3 runs in one isolate.*drop --workers or --http3/);
  },
);

Deno.test(
  "h3 cli: --http3 with --no-https exits 2 saying it needs the HTTPS listener",
  needsQuic("read", "run"),
  async () => {
    const r = await runFerry(["--http3", "--no-https", "--port", "0"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--http3 needs the HTTPS listener.*drop --no-https/);
  },
);
