/**
 * `--wsgi-timeout` means "stuck" (issue 34, finding 7), with ferry started as users start it: a
 * server-sent-events stream that runs longer than the timeout is never cut while it sends, over
 * ASGI and WSGI; an app silent before its head gets 504, one silent between two body pieces has
 * its response cut; and a lifespan startup that never completes ends with its own message, naming
 * its own flag (`--asgi-startup-timeout`).
 */

import assert from "assert";
import { needs } from "../../helpers/needs.ts";
import { APPS, PYTHON } from "../../helpers/python.ts";
import { runFerry, startChild, until } from "../../helpers/server.ts";

const BASE = ["--port", "0", "--no-https", "--log-format", "none"];
const PY = ["--wsgi-python", PYTHON, "--wsgi-chdir", APPS, "--wsgi-workers", "1", "--wsgi-timeout", "2"];

/** The response's status and whole body, or the error its body ended with (a cut response). */
async function fetchAll(url: string): Promise<{ status: number; body: string; cut: boolean }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(60000) });
  let body = "";
  const dec = new TextDecoder();
  try {
    for await (const chunk of res.body!) body += dec.decode(chunk, { stream: true });
    return { status: res.status, body, cut: false };
  } catch {
    return { status: res.status, body, cut: true };
  }
}

for (const [iface, app] of [["asgi", "stream_apps:asgi_app"], ["wsgi", "stream_apps:wsgi_app"]] as const) {
  Deno.test(
    `stuck timeout (${iface}): a stream twice as long as --wsgi-timeout is never cut; silence is`,
    needs("read", "write", "run"),
    async () => {
      await using ferry = await startChild([...BASE, ...PY, `--${iface}`, app]);
      const url = ferry.urls[0];
      // 12 events 0.4 s apart: 4.8 s in all against a 2 s timeout.
      const sse = await fetchAll(`${url}sse?n=12&every=0.4`);
      assert.equal(sse.status, 200);
      assert.equal(sse.cut, false, `the stream was cut after: ${JSON.stringify(sse.body)}`);
      assert.equal(sse.body.match(/^data: \d+$/gm)?.length, 12);
      assert.match(sse.body, /data: end\n\n$/);
      // Silent between two pieces: the response is cut (no last chunk), after its first event.
      const stalled = await fetchAll(`${url}silent-after-head`);
      assert.equal(stalled.status, 200);
      assert.equal(stalled.cut, true);
      assert.equal(stalled.body, "data: 0\n\n");
      // Silent before the head: 504.
      const silent = await fetchAll(`${url}silent`);
      assert.equal(silent.status, 504);
      // The log says which wait it was (its lines reach stderr a moment later).
      await until(() => /waiting="?for the response head/.test(ferry.stderr()), "the second timeout's line");
      assert.match(ferry.stderr(), /python request timed out \(no progress within --wsgi-timeout\)/);
      assert.match(ferry.stderr(), /waiting="?for the next body piece/);
    },
  );
}

Deno.test(
  "stuck timeout: a lifespan startup that never completes ends with its own message and flag",
  needs("read", "write", "run"),
  async () => {
    const r = await runFerry([
      ...BASE,
      ...PY,
      "--asgi",
      "stream_apps:hanging_startup",
      "--asgi-startup-timeout",
      "1",
    ]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /ASGI lifespan startup did not complete within 1 s/);
    assert.match(r.stderr, /--asgi-startup-timeout/);
    assert.doesNotMatch(r.stderr, /WSGI app did not load/);
  },
);
