/**
 * The bench's machinery: the peer servers (ferry, a Deno.serve handler, node:http, nginx, the
 * raw-socket ceiling, ferry's bare engine), pinned to CPU 0, and the load generators (wrk or
 * ferry's loadgen, the WebSocket echo load, idle-connection memory), pinned to CPU 1. What is
 * measured against what is the scenario table in `bench.ts`.
 *
 * @module
 */

import { join } from "node:path";
import { startPermissions, startV8Flags } from "./compile.ts";

/** The repository root. */
export const ROOT: string = new URL("../", import.meta.url).pathname;

/** The path of `cmd` on PATH, if there is one. */
export async function which(cmd: string): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("sh", {
      args: ["-c", `command -v ${cmd}`],
      stdout: "piped",
      stderr: "null",
    }).output();
    const path = new TextDecoder().decode(out.stdout).trim();
    return out.success && path !== "" ? path : undefined;
  } catch {
    return undefined;
  }
}

/** CPUs of this machine. */
export const cpus: number = navigator.hardwareConcurrency ?? 1;
/** taskset, when there are two CPUs to pin to. */
export const taskset: string | undefined = cpus >= 2 ? await which("taskset") : undefined;
/** wrk, when installed (else ferry's loadgen). */
export const wrk: string | undefined = await which("wrk");
/** nginx, when installed. */
export const nginxBin: string | undefined = (await which("nginx")) ??
  ((await Deno.stat("/usr/sbin/nginx").catch(() => null)) ? "/usr/sbin/nginx" : undefined);
/** node, when installed. */
export const nodeBin: string | undefined = await which("node");

/** Prefix that pins a command to a CPU, when taskset is there. */
export function pinned(cpu: number, cmd: string[]): string[] {
  return taskset ? [taskset, "-c", String(cpu), ...cmd] : cmd;
}

/** A started peer server. */
export interface Peer {
  /** Its name in the table. */
  name: string;
  /** Its process. */
  child: Deno.ChildProcess;
  /** Its HTTP port. */
  http?: number;
  /** Its HTTPS port. */
  https?: number;
  /** nginx only: the same server with a JSON access log. */
  logged?: number;
  /** Processes it needs (a proxied row's upstream), stopped with it. */
  also?: Deno.ChildProcess[];
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Waits until `port` accepts (20 s at most, or until `child` exits). */
export async function waitForPort(port: number, child: Deno.ChildProcess, name: string): Promise<void> {
  const give = Date.now() + 20000;
  let exited = false;
  child.status.then(() => exited = true);
  while (Date.now() < give && !exited) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const err = await new Response(child.stderr).text().catch(() => "");
  throw new Error(`${name} did not start on port ${port}: ${err.slice(0, 500)}`);
}

/** Starts `cmd` with stderr piped (for start-up errors). */
export function spawn(cmd: string[], env: Record<string, string> = {}): Deno.ChildProcess {
  return new Deno.Command(cmd[0], { args: cmd.slice(1), stdout: "null", stderr: "piped", stdin: "null", env })
    .spawn();
}

/** Runs a Deno script pinned to CPU 0 on two free ports (HTTP, HTTPS) and waits for both. */
export async function startDeno(
  name: string,
  args: (http: number, https: number) => string[],
  env: Record<string, string> = {},
): Promise<Peer> {
  const http = freePort();
  const https = freePort();
  // With the start task's permissions, as users run ferry (and the same for the Deno peers).
  const child = spawn(pinned(0, [Deno.execPath(), "run", ...startPermissions(), ...args(http, https)]), env);
  await waitForPort(http, child, name);
  await waitForPort(https, child, name);
  return { name, child, http, https };
}

/** `deno serve FILE` on a free port, pinned to CPU 0: Deno's own server on the app file ferry runs with `--app`. */
export async function startDenoServe(name: string, file: string): Promise<Peer> {
  const http = freePort();
  const child = spawn(
    pinned(0, [
      Deno.execPath(),
      "serve",
      ...startPermissions(),
      "--host",
      "127.0.0.1",
      "--port",
      String(http),
      file,
    ]),
  );
  await waitForPort(http, child, name);
  return { name, child, http };
}

/**
 * CPU seconds (user and system, all threads) a process has used so far, from `/proc/PID/stat`;
 * undefined where there is no `/proc`. Divided by the requests served between two readings it is
 * the CPU a request costs, a measure that holds on a loaded machine where requests per second do not.
 */
export async function cpuSeconds(pid: number): Promise<number | undefined> {
  // The process and its descendants: ferry's Python workers, gunicorn's and uWSGI's workers.
  const parents = new Map<number, number>();
  const ticks = new Map<number, number>();
  try {
    for await (const e of Deno.readDir("/proc")) {
      if (!/^[0-9]+$/.test(e.name)) continue;
      try {
        const stat = await Deno.readTextFile(`/proc/${e.name}/stat`);
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        parents.set(Number(e.name), Number(fields[1]));
        // utime and stime, in clock ticks (USER_HZ, 100 on Linux).
        ticks.set(Number(e.name), Number(fields[11]) + Number(fields[12]));
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    return undefined;
  }
  if (!ticks.has(pid)) return undefined;
  const tree = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [child, parent] of parents) {
      if (tree.has(parent) && !tree.has(child)) {
        tree.add(child);
        grew = true;
      }
    }
  }
  let total = 0;
  for (const p of tree) total += ticks.get(p) ?? 0;
  return total / 100;
}

/** ferry from `main.ts` with `flags`, on free ports, serving `dir`'s site and uploads. */
export function startFerry(name: string, dir: string, flags: string[]): Promise<Peer> {
  // Beside --root, ferry serves its example app only when asked: `/hello` is the example app's.
  const ownApp = flags.some((f) => ["--app", "--wsgi", "--asgi", "--config", "--proxy"].includes(f));
  const app = ownApp ? [] : ["--app", join(ROOT, "scripts/peers/example_app.ts")];
  return startDeno(name, (http, https) => [
    ...startV8Flags(), // as `deno task start` runs it (the Deno peers run with Deno's defaults)
    join(ROOT, "main.ts"),
    "--port",
    String(http),
    "--https-port",
    String(https),
    "--cert-dir",
    join(dir, "certs"),
    "--root",
    join(dir, "www"),
    "--upload-dir",
    join(dir, "uploads"),
    "--max-connections",
    "20000",
    "--max-upload-bytes",
    "64M",
    ...app,
    ...flags,
  ], { FERRY_AUTH_USER: "bench", FERRY_AUTH_PASS: "bench" });
}

/**
 * A Deno peer from `scripts/peers/` (Deno.serve, the raw-socket ceiling), on an HTTP and an HTTPS
 * port, with the certificate in `dir`.
 */
export function startDenoPeer(name: string, script: string, dir: string): Promise<Peer> {
  return startDeno(
    name,
    (http, https) => [join(ROOT, "scripts/peers", script), String(http), String(https), dir],
  );
}

/** ferry with a bare handler for /hello (scripts/peers/ferry_native.ts): the engine without an app adapter. */
export async function startFerryNative(): Promise<Peer> {
  const http = freePort();
  const child = spawn(
    pinned(0, [
      Deno.execPath(),
      "run",
      ...startPermissions(),
      join(ROOT, "scripts/peers/ferry_native.ts"),
      String(http),
    ]),
  );
  await waitForPort(http, child, "ferry native");
  return { name: "ferry native", child, http };
}

/** The node:http peer (`scripts/peers/node_http.mjs`), when node is installed. */
export async function startNode(): Promise<Peer | undefined> {
  if (!nodeBin) return undefined;
  const http = freePort();
  const child = spawn(pinned(0, [nodeBin, join(ROOT, "scripts/peers/node_http.mjs"), String(http)]));
  await waitForPort(http, child, "node:http");
  return { name: "node:http", child, http };
}

/** nginx with one worker serving `/hello` and the site, plus a logged twin; when installed. */
export async function startNginx(dir: string): Promise<Peer | undefined> {
  if (!nginxBin) return undefined;
  const http = freePort();
  const logged = freePort();
  const conf = join(dir, "nginx.conf");
  const tmp = join(dir, "nginx");
  await Deno.mkdir(tmp, { recursive: true });
  await Deno.writeTextFile(
    conf,
    `user root;
worker_processes 1;
daemon off;
pid ${tmp}/nginx.pid;
error_log ${tmp}/error.log;
events { worker_connections 20000; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  open_file_cache max=1000 inactive=60s;
  keepalive_requests 10000000;
  keepalive_timeout 65;
  client_body_temp_path ${tmp}/body;
  proxy_temp_path ${tmp}/proxy;
  fastcgi_temp_path ${tmp}/fastcgi;
  uwsgi_temp_path ${tmp}/uwsgi;
  scgi_temp_path ${tmp}/scgi;
  default_type application/octet-stream;
  # ferry's JSON line without its request id (ferry makes one with logging on or off; nginx's
  # \$request_id would cost random bytes only the logged server pays for).
  log_format ferry escape=json '{"time":"$time_iso8601","method":"$request_method","target":"$request_uri",'
    '"status":$status,"bytes":$body_bytes_sent,"conn":$connection,"remote":"$remote_addr",'
    '"protocol":"$server_protocol","tls":false,"phase":"running","ua":"$http_user_agent","ms":$request_time}';
  server {
    listen 127.0.0.1:${http};
    root ${dir}/www;
    location = /hello { default_type "text/plain; charset=utf-8"; return 200 "Hello, World!"; }
    location /static/ { alias ${dir}/www/; }
  }
  server {
    listen 127.0.0.1:${logged};
    access_log ${tmp}/access.log ferry buffer=64k flush=1s;
    location = /hello { default_type "text/plain; charset=utf-8"; return 200 "Hello, World!"; }
  }
}
`,
  );
  const child = spawn(pinned(0, [nginxBin, "-c", conf, "-p", tmp]));
  await waitForPort(http, child, "nginx");
  return { name: "nginx", child, http, logged };
}

/** gunicorn, when installed. */
export const gunicornBin: string | undefined = (await which("gunicorn")) ??
  ((await Deno.stat("/usr/bin/gunicorn").catch(() => null)) ? "/usr/bin/gunicorn" : undefined);
/** Debian's Python, which has Flask (the python3 on PATH may not). */
export const PYTHON = "/usr/bin/python3";

/** Echoed messages per second through `url`, from scripts/ws_load.ts on the load CPU. */
export async function wsLoad(url: string, duration: number): Promise<number> {
  const out = await new Deno.Command(pinned(1, [Deno.execPath()])[0], {
    args: [
      ...pinned(1, [Deno.execPath()]).slice(1),
      "run",
      "-A",
      join(ROOT, "scripts/ws_load.ts"),
      url,
      "10",
      String(duration),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout)).mps;
}

/** Stops a peer: SIGTERM, SIGKILL after 5 s. */
export async function stop(p: Peer): Promise<void> {
  for (const child of p.also ?? []) await stop({ name: `${p.name}'s upstream`, child });
  try {
    p.child.kill("SIGTERM");
  } catch {
    // gone
  }
  const timer = setTimeout(() => {
    try {
      p.child.kill("SIGKILL");
    } catch {
      // gone
    }
  }, 5000);
  await p.child.stderr.cancel().catch(() => {});
  await p.child.status;
  clearTimeout(timer);
}

/** One measurement: requests/s and bytes/s. */
export interface Sample {
  /** Requests per second. */
  rps: number;
  /** Response bytes per second. */
  bps: number;
  /** Requests completed in the run. */
  requests: number;
}

/** A load run: wrk when installed, else ferry's loadgen. */
export async function load(
  url: string,
  o: { connections: number; duration: number; script?: string; insecure?: boolean },
): Promise<Sample> {
  if (wrk) {
    const args = [
      "-t1",
      `-c${o.connections}`,
      `-d${o.duration}s`,
      "--timeout",
      "10s",
      ...(o.script ? ["-s", o.script] : []),
      url,
    ];
    const cmd = pinned(1, [wrk, ...args]);
    const out = await new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
    const t = /Transfer\/sec:\s+([\d.]+)(\w+)/.exec(text);
    const unit: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };
    const bps = t ? Number(t[1]) * (unit[t[2]] ?? 1) : NaN;
    if (!Number.isFinite(rps)) {
      throw new Error(`wrk failed on ${url}: ${text}${new TextDecoder().decode(out.stderr)}`);
    }
    const requests = Number(/(\d+) requests in/.exec(text)?.[1] ?? rps * o.duration);
    return { rps, bps, requests };
  }
  const args = [
    "run",
    "-A",
    join(ROOT, "scripts/loadgen.ts"),
    "--url",
    url,
    "--connections",
    String(o.connections),
    "--duration",
    String(o.duration),
    "--json",
    "--no-progress",
  ];
  if (o.insecure) args.push("--insecure");
  if (o.script?.includes("pipeline")) args.push("--pipeline", "16");
  if (o.script?.includes("put")) {
    args.push("--method", "PUT", "--body-file", o.script.replace(/\.lua$/, ".bin"));
  }
  const cmd = pinned(1, [Deno.execPath(), ...args]);
  const out = await new Deno.Command(cmd[0], { args: cmd.slice(1), stdout: "piped" }).output();
  const r = JSON.parse(new TextDecoder().decode(out.stdout));
  return { rps: r.requestsPerSecond, bps: r.bytesPerSecond, requests: r.requestsPerSecond * o.duration };
}

/** Resident memory of a process, from /proc. */
export async function rssBytes(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/** Per-connection memory: RSS growth with `n` idle keep-alive connections open. */
export async function idleMemory(peer: Peer, n: number): Promise<number> {
  const pid = peer.child.pid;
  const request = new TextEncoder().encode("GET /hello HTTP/1.1\r\nHost: bench\r\n\r\n");
  const buf = new Uint8Array(4096);
  // Warm-up: the first connections' code paths compiled, and start-up's allocations settled.
  for (let i = 0; i < 400; i += 100) {
    await Promise.all(Array.from({ length: 100 }, async () => {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: peer.http! });
      await c.write(request);
      await c.read(buf);
      c.close();
    }));
  }
  await new Promise((r) => setTimeout(r, 1000));
  const before = await rssBytes(pid);
  const conns: Deno.Conn[] = [];
  try {
    for (let i = 0; i < n; i += 200) {
      const batch = await Promise.all(Array.from({ length: Math.min(200, n - i) }, async () => {
        const c = await Deno.connect({ hostname: "127.0.0.1", port: peer.http! });
        await c.write(request);
        await c.read(buf);
        return c;
      }));
      conns.push(...batch);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const after = await rssBytes(pid);
    return (after - before) / n;
  } finally {
    for (const c of conns) {
      try {
        c.close();
      } catch {
        // closed
      }
    }
  }
}

/** The median of `xs`. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A row of the result table. */
export interface Row {
  /** What was measured. */
  scenario: string;
  /** The unit of the results. */
  unit: string;
  /** Medians by server. */
  results: Record<string, number>;
  /** Median CPU µs per request by server, for the rows that measure it. */
  cpu?: Record<string, number>;
  /** Ratios between servers, with their targets. */
  comparisons: Array<
    {
      /** The server under the ratio. */
      peer: string;
      /** of / peer. */
      ratio: number;
      /** The ratio wanted. */
      target?: number;
      /** Whether the target was met (set when the table is printed). */
      met?: boolean;
      /** Whether a smaller ratio is better (memory). */
      lowerIsBetter?: boolean;
      /** The server on top of the ratio, when it is not ferry. */
      of?: string;
    }
  >;
}
