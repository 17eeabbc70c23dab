/**
 * Real upstream servers for the reverse-proxy tests, each a child process on loopback (or a Unix
 * socket) that the test stops or kills: Node's `http` (the fixture in
 * `tests/upstream/fixtures/node_upstream.mjs`), Python's `http.server`, gunicorn, uvicorn, nginx
 * and a Deno WebSocket echo server.
 *
 * @module
 */

import { join } from "./paths.ts";
import { freePort } from "./proxies.ts";
import { ROOT } from "./server.ts";

/** A running upstream. */
export interface Upstream extends AsyncDisposable {
  /** Its port (0 for a Unix socket). */
  port: number;
  /** Its target as `--proxy` writes it. */
  target: string;
  /** The process. */
  child: Deno.ChildProcess;
  /** What it printed. */
  output(): string;
  /** SIGKILL now, and wait for the exit. */
  kill(): Promise<void>;
}

/** The Node fixture. */
export const NODE_UPSTREAM: string = join(ROOT, "tests", "upstream", "fixtures", "node_upstream.mjs");

async function connectable(addr: { port: number } | { path: string }): Promise<boolean> {
  try {
    const c = "path" in addr
      ? await Deno.connect({ transport: "unix", path: addr.path })
      : await Deno.connect({ hostname: "127.0.0.1", port: addr.port });
    c.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Spawns `cmd args` and waits (10 s at most) until it listens on `port`, or on `unixPath`, or
 * prints `port N` when `port` is 0.
 */
export async function spawnUpstream(
  cmd: string,
  args: string[],
  where: { port: number } | { unixPath: string },
  env: Record<string, string> = {},
): Promise<Upstream> {
  const child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", stdin: "null", env }).spawn();
  let text = "";
  const dec = new TextDecoder();
  const pumps = Promise.all([child.stdout, child.stderr].map(async (s) => {
    for await (const c of s) text += dec.decode(c);
  }));
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  let port = "port" in where ? where.port : 0;
  const give = Date.now() + 10000;
  for (;;) {
    if (exited || Date.now() > give) throw new Error(`${cmd} did not start: ${text}`);
    if ("unixPath" in where) {
      if (await connectable({ path: where.unixPath })) break;
    } else {
      if (port === 0) port = Number(/port (\d+)/.exec(text)?.[1] ?? 0);
      if (port !== 0 && await connectable({ port })) break;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const kill = async (sig: Deno.Signal = "SIGKILL") => {
    try {
      child.kill(sig);
    } catch {
      // gone
    }
    await status;
    await Promise.race([pumps, new Promise((r) => setTimeout(r, 2000))]);
  };
  return {
    port,
    target: "unixPath" in where ? `unix/${where.unixPath}` : `127.0.0.1:${port}`,
    child,
    output: () => text,
    kill: () => kill("SIGKILL"),
    [Symbol.asyncDispose]: () => kill("SIGTERM"),
  };
}

/** Node's `http` upstream (the fixture), named `name` in its answers, on `port` (0: any). */
export function startNodeUpstream(name = "node", port = 0): Promise<Upstream> {
  return spawnUpstream("node", [NODE_UPSTREAM, name, String(port)], { port });
}

/** A free port for an upstream that cannot print its own. */
export { freePort };
