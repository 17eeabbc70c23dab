/**
 * Real load balancers in front of ferry for tests: Debian's HAProxy and nginx, started in the
 * foreground on loopback with a configuration the test writes, stopped when disposed. And curl
 * from a chosen loopback address (`--interface 127.0.0.2`), so a test can tell clients apart.
 *
 * @module
 */

import { join } from "./paths.ts";

/** A running proxy. */
export interface RunningProxy extends AsyncDisposable {
  /** The port it listens on. */
  port: number;
  /** What it printed. */
  output(): string;
}

/** A free loopback TCP port (bound and released at once). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function waitForPort(port: number, child: Deno.ChildProcess, out: () => string): Promise<void> {
  let exited = false;
  child.status.then(() => exited = true);
  for (let i = 0; i < 200 && !exited; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`the proxy did not listen on ${port}: ${out()}`);
}

async function start(cmd: string, args: string[], port: number): Promise<RunningProxy> {
  const child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", stdin: "null" }).spawn();
  let text = "";
  const dec = new TextDecoder();
  const pump = Promise.all([child.stdout, child.stderr].map(async (s) => {
    for await (const c of s) text += dec.decode(c);
  }));
  await waitForPort(port, child, () => text);
  return {
    port,
    output: () => text,
    async [Symbol.asyncDispose]() {
      // SIGTERM, so that nginx's master stops its workers too (they hold the output pipes).
      const kill = (sig: Deno.Signal) => {
        try {
          child.kill(sig);
        } catch {
          // gone
        }
      };
      kill("SIGTERM");
      const timer = setTimeout(() => kill("SIGKILL"), 3000);
      await child.status;
      clearTimeout(timer);
      await Promise.race([pump, new Promise((r) => setTimeout(r, 3000))]);
    },
  };
}

/** Starts HAProxy with `config` (its `frontend` must bind 127.0.0.1:`port`). */
export async function startHaproxy(config: string, port: number): Promise<RunningProxy> {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "haproxy.cfg");
  await Deno.writeTextFile(path, config);
  return await start("haproxy", ["-f", path, "-db"], port);
}

/** Starts nginx with the `http { … }` block `http` listening on `port`. */
export async function startNginx(http: string, port: number): Promise<RunningProxy> {
  const dir = await Deno.makeTempDir();
  const conf = `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  ${http}
}
`;
  await Deno.writeTextFile(join(dir, "nginx.conf"), conf);
  const nginx = (await Deno.stat("/usr/sbin/nginx").then(() => true, () => false))
    ? "/usr/sbin/nginx"
    : "nginx";
  return await start(nginx, ["-c", join(dir, "nginx.conf"), "-p", dir], port);
}

/** `curl` from `from` (a loopback address): status and body. */
export async function curlFrom(
  from: string,
  url: string,
  headers: string[] = [],
): Promise<{ status: number; body: string }> {
  const args = [
    "-s",
    "--interface",
    from,
    "-o",
    "-",
    "-w",
    "\n%{http_code}",
    ...headers.flatMap((h) => ["-H", h]),
    url,
  ];
  const out = await new Deno.Command("curl", { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  const nl = text.lastIndexOf("\n");
  return { status: Number(text.slice(nl + 1)), body: text.slice(0, nl) };
}

/**
 * A PROXY v2 header (command PROXY) with family-and-transport byte `fam` and `addrs` bytes of
 * address block, filled with slashes (an AF_UNIX path nobody reads).
 */
export function proxyV2Family(fam: number, addrs: number): Uint8Array {
  const sig = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
  const out = new Uint8Array(16 + addrs).fill(0x2f);
  out.set([...sig, 0x21, fam, addrs >> 8, addrs & 0xff]);
  return out;
}
