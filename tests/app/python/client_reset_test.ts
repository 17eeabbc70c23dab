/**
 * Faults stay where they happen (issue 34, findings 11 and 12), with ferry started as users start
 * it: a client that resets ends its own request only (the worker, its other requests and its
 * socket live on), over ASGI and WSGI, whether it leaves while the app works or halfway through
 * a 1 MiB body; and a worker that does die takes ferry's end of its socket with it, however many
 * requests were in flight on it (ferry's descriptors, counted from /proc by this test process).
 */

import assert from "assert";
import { APPS, PYTHON } from "../../helpers/python.ts";
import { startChild, until } from "../../helpers/server.ts";
import { needs } from "../../helpers/needs.ts";

const BASE = ["--port", "0", "--no-https", "--log-format", "none"];
const PY = ["--wsgi-python", PYTHON, "--wsgi-chdir", APPS, "--wsgi-workers", "1"];

/**
 * Resets `n` clients (SO_LINGER 0), `parallel` at a time: `slow` sends `GET /slow` (the app
 * answers after 200 ms) and resets 50 ms later; `post` declares a 1 MiB body, sends half and resets.
 */
async function resetClients(port: number, n: number, parallel: number, kind: "slow" | "post"): Promise<void> {
  const script = `
import socket, struct, sys, threading, time
port, n, par, kind = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def one():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.connect(("127.0.0.1", port))
    if kind == "slow":
        s.sendall(b"GET /slow HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n")
    else:
        s.sendall(b"POST /body HTTP/1.1\\r\\nHost: t\\r\\nContent-Length: 1048576\\r\\n\\r\\n" + b"x" * 524288)
    time.sleep(0.05)
    s.close()
done = 0
while done < n:
    k = min(par, n - done)
    ts = [threading.Thread(target=one) for _ in range(k)]
    for t in ts: t.start()
    for t in ts: t.join()
    done += k
`;
  const out = await new Deno.Command(PYTHON, {
    args: ["-c", script, String(port), String(n), String(parallel), kind],
  })
    .output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
}

/** A GET's status and text, with a client timeout far beyond a fair wait (a guard, not a timing assertion). */
async function get(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(30000) });
  return { status: res.status, text: await res.text() };
}

/** ferry's open descriptors. */
function fds(pid: number): number {
  return [...Deno.readDirSync(`/proc/${pid}/fd`)].length;
}

/** The `/_metrics` document's `wsgi` part. */
async function wsgiMetrics(url: string): Promise<{ restarts: Record<string, number>; bad_gateway: number }> {
  return (await (await fetch(`${url}_metrics`)).json()).wsgi;
}

for (
  const [iface, app, resets] of [["asgi", "reset_apps:asgi_app", 1000], [
    "wsgi",
    "reset_apps:wsgi_app",
    100,
  ]] as const
) {
  Deno.test(
    `client reset (${iface}): ${resets} resets mid-request and 20 halfway through a 1 MiB POST kill no worker`,
    needs("read", "write", "run"),
    async () => {
      await using ferry = await startChild([...BASE, ...PY, `--${iface}`, app]);
      const url = ferry.urls[0];
      const port = Number(new URL(url).port);
      const pid = await get(`${url}pid`);
      assert.equal(pid.status, 200);
      const before = fds(ferry.child.pid);
      await resetClients(port, resets, iface === "asgi" ? 50 : 10, "slow");
      await resetClients(port, 20, 10, "post");
      // Every request on the worker goes on: the same worker answers, nothing was replaced.
      const after = await get(`${url}pid`);
      assert.equal(after.status, 200);
      assert.equal(after.text, pid.text, "the worker that served before the resets serves after them");
      const m = await wsgiMetrics(url);
      assert.deepEqual(m.restarts, {}, "no worker was replaced");
      assert.equal(m.bad_gateway, 0);
      assert.doesNotMatch(ferry.stderr(), /python worker failed/);
      // The reset connections' descriptors are all given back.
      await until(() => fds(ferry.child.pid) <= before, `ferry's descriptors back to ${before}`, 20000);
    },
  );
}

Deno.test(
  "client reset: a worker that dies with requests in flight takes ferry's end of its socket along",
  needs("read", "write", "run"),
  async () => {
    await using ferry = await startChild([...BASE, ...PY, "--asgi", "reset_apps:asgi_app"]);
    const url = ferry.urls[0];
    assert.equal((await get(`${url}pid`)).status, 200);
    const before = fds(ferry.child.pid);
    const crashes = 10;
    for (let i = 0; i < crashes; i++) {
      // Two requests in flight on the worker when it dies: each gets its 502.
      const inFlight = [get(`${url}slow`), get(`${url}slow`)];
      await new Promise((r) => setTimeout(r, 50));
      const crash = await get(`${url}crash`);
      assert.equal(crash.status, 502);
      for (const r of await Promise.all(inFlight)) assert.equal(r.status, 502);
      await until(() => ferry.stderr().split("python worker ready").length - 1 >= i + 2, "the replacement");
      // A request served resets the pool's crash-loop back-off.
      assert.equal((await get(`${url}pid`)).status, 200);
    }
    assert.equal((await wsgiMetrics(url)).restarts.crash, crashes);
    assert.equal((await get(`${url}pid`)).status, 200);
    // One worker, one socket, as before: the dead workers' sockets are closed.
    await until(() => fds(ferry.child.pid) <= before, `ferry's descriptors back to ${before}`, 20000);
  },
);
