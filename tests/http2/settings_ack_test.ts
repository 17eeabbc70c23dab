/**
 * RFC 9113 §6.5.3: a client that never acknowledges the server's SETTINGS is closed with GOAWAY
 * SETTINGS_TIMEOUT once `--header-timeout` has passed (counted as `settings_timeout`); one that
 * acknowledges is kept until its keep-alive timeout and closed with NO_ERROR.
 */

import assert from "assert";
import { Client, concat, exchange, FLAG, FRAME, PREFACE } from "./frame_kit.ts";
import { startServer } from "../helpers/server.ts";
import { ERROR } from "../../src/http2/errors.ts";

const goaway = (fs: Array<{ type: number }>) => fs.some((f) => f.type === FRAME.GOAWAY);

Deno.test("h2 SETTINGS ACK: never acknowledged → GOAWAY SETTINGS_TIMEOUT; acknowledged → idle close, NO_ERROR", async () => {
  await using s = await startServer({ h2c: true, headerTimeout: 0.3, keepaliveTimeout: 0.6 });
  const c = new Client();
  const silent = await exchange(s.port, concat([PREFACE, c.settings([])]), goaway);
  const first = silent.frames.find((f) => f.type === FRAME.GOAWAY);
  assert.equal(first?.code, ERROR.SETTINGS_TIMEOUT, "the client that never acknowledged");
  assert.equal(s.server.stats.h2Limits.get("settings_timeout"), 1);
  const polite = await exchange(s.port, concat([PREFACE, c.settings([]), c.settings([], FLAG.ACK)]), goaway);
  assert.equal(
    polite.frames.find((f) => f.type === FRAME.GOAWAY)?.code,
    ERROR.NO_ERROR,
    "idle, not unacknowledged",
  );
  assert.equal(s.server.stats.h2Limits.get("settings_timeout"), 1);
});
