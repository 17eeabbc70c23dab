/**
 * `deno task bench`: ferry side by side with its peers on this machine (a Deno.serve handler, a
 * node:http handler, and nginx with one worker when nginx is installed), servers pinned to one
 * CPU and the load generator to another (with taskset, when present). Every scenario is measured
 * in alternating rounds; the table shows medians and ratios. The hello and HTTPS scenarios also
 * run a raw-socket ceiling (`scripts/peers/raw_ceiling.ts`, which parses nothing), so the table
 * shows how far any server on `Deno.listen` can get against Deno.serve on this machine.
 *
 * Flags: `--rounds N` (5), `--duration S` (3), `--only a,b` (scenario ids), `--quick` (1 round of
 * 1 s: a smoke run), `--json FILE` (the results as JSON too).
 *
 * @module
 */

import { asgiRows } from "./bench_python.ts";
import { h2Rows } from "./bench_h2.ts";
import { join } from "node:path";
import { makeSelfSigned } from "../src/tls/cert.ts";

const ROOT = new URL("../", import.meta.url).pathname;

interface Args {
  rounds: number;
  duration: number;
  only: string[] | undefined;
  json: string | undefined;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { rounds: 5, duration: 3, only: undefined, json: undefined };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === "--rounds") a.rounds = Number(argv[++i]);
    else if (v === "--duration") a.duration = Number(argv[++i]);
    else if (v === "--only") a.only = argv[++i].split(",");
    else if (v === "--json") a.json = argv[++i];
    else if (v === "--quick") {
      a.rounds = 1;
      a.duration = 1;
    } else {
      console.error(`bench: unknown flag ${v}`);
      Deno.exit(2);
    }
  }
  return a;
}

async function which(cmd: string): Promise<string | undefined> {
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

const cpus = navigator.hardwareConcurrency ?? 1;
const taskset = cpus >= 2 ? await which("taskset") : undefined;
const wrk = await which("wrk");
const nginxBin = (await which("nginx")) ??
  ((await Deno.stat("/usr/sbin/nginx").catch(() => null)) ? "/usr/sbin/nginx" : undefined);
const nodeBin = await which("node");

/** Prefix that pins a command to a CPU, when taskset is there. */
function pinned(cpu: number, cmd: string[]): string[] {
  return taskset ? [taskset, "-c", String(cpu), ...cmd] : cmd;
}

/** A started peer server. */
interface Peer {
  name: string;
  child: Deno.ChildProcess;
  http?: number;
  https?: number;
  /** nginx only: the same server with a JSON access log. */
  logged?: number;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function waitForPort(port: number, child: Deno.ChildProcess, name: string): Promise<void> {
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

function spawn(cmd: string[], env: Record<string, string> = {}): Deno.ChildProcess {
  return new Deno.Command(cmd[0], { args: cmd.slice(1), stdout: "null", stderr: "piped", stdin: "null", env })
    .spawn();
}

/** Runs a Deno script pinned to CPU 0 on two free ports (HTTP, HTTPS) and waits for both. */
async function startDeno(
  name: string,
  args: (http: number, https: number) => string[],
  env: Record<string, string> = {},
): Promise<Peer> {
  const http = freePort();
  const https = freePort();
  const child = spawn(pinned(0, [Deno.execPath(), "run", "-A", ...args(http, https)]), env);
  await waitForPort(http, child, name);
  await waitForPort(https, child, name);
  return { name, child, http, https };
}

function startFerry(name: string, dir: string, flags: string[]): Promise<Peer> {
  return startDeno(name, (http, https) => [
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
    ...flags,
  ], { FERRY_AUTH_USER: "bench", FERRY_AUTH_PASS: "bench" });
}

/**
 * A Deno peer from `scripts/peers/` (Deno.serve, the raw-socket ceiling), on an HTTP and an HTTPS
 * port, with the certificate in `dir`.
 */
function startDenoPeer(name: string, script: string, dir: string): Promise<Peer> {
  return startDeno(
    name,
    (http, https) => [join(ROOT, "scripts/peers", script), String(http), String(https), dir],
  );
}

/** ferry with a bare handler for /hello (scripts/peers/ferry_native.ts): the engine without an app adapter. */
async function startFerryNative(): Promise<Peer> {
  const http = freePort();
  const child = spawn(
    pinned(0, [Deno.execPath(), "run", "-A", join(ROOT, "scripts/peers/ferry_native.ts"), String(http)]),
  );
  await waitForPort(http, child, "ferry native");
  return { name: "ferry native", child, http };
}

async function startNode(): Promise<Peer | undefined> {
  if (!nodeBin) return undefined;
  const http = freePort();
  const child = spawn(pinned(0, [nodeBin, join(ROOT, "scripts/peers/node_http.mjs"), String(http)]));
  await waitForPort(http, child, "node:http");
  return { name: "node:http", child, http };
}

async function startNginx(dir: string): Promise<Peer | undefined> {
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

const gunicornBin = (await which("gunicorn")) ??
  ((await Deno.stat("/usr/bin/gunicorn").catch(() => null)) ? "/usr/bin/gunicorn" : undefined);
/** Debian's Python, which has Flask (the python3 on PATH may not). */
const PYTHON = "/usr/bin/python3";

/**
 * The Python gateway against gunicorn's sync worker: the same single CPU, one worker each, a pure
 * WSGI hello and a Flask hello.
 */
async function wsgiRows(
  dir: string,
  measure: (t: Array<{ name: string; url: string }>, connections: number, metric: "rps") => Promise<
    Record<string, number>
  >,
): Promise<Row[]> {
  if (!gunicornBin) {
    console.error("bench: gunicorn is missing (apt-get install gunicorn): the wsgi rows are skipped");
    return [];
  }
  const apps = join(dir, "wsgi");
  await Deno.mkdir(apps, { recursive: true });
  await Deno.writeTextFile(
    join(apps, "pure.py"),
    `def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "12")])
    return [b"Hello world\\n"]
`,
  );
  await Deno.writeTextFile(
    join(apps, "flaskhello.py"),
    `from flask import Flask
app = Flask(__name__)

@app.route("/hello")
def hello():
    return "Hello world\\n"
`,
  );
  const rows: Row[] = [];
  for (
    const [label, app, target] of [["pure WSGI", "pure:app", 2], ["Flask", "flaskhello:app", 1.1]] as const
  ) {
    const ferry = await startFerry("ferry --wsgi", dir, [
      "--log-format",
      "none",
      "--wsgi",
      app,
      "--wsgi-workers",
      "1",
      "--wsgi-python",
      PYTHON,
      "--wsgi-chdir",
      apps,
    ]);
    const port = freePort();
    const gunicorn = spawn(
      pinned(0, [gunicornBin, "-w", "1", "-b", `127.0.0.1:${port}`, "--chdir", apps, app]),
    );
    const guPeer: Peer = { name: "gunicorn", child: gunicorn, http: port };
    try {
      await waitForPort(port, gunicorn, "gunicorn");
      const r = await measure(
        [
          { name: "ferry", url: `http://127.0.0.1:${ferry.http}/hello` },
          { name: "gunicorn", url: `http://127.0.0.1:${port}/hello` },
        ],
        10,
        "rps",
      );
      rows.push({
        scenario: `${label} hello, 1 Python worker each, 10 connections`,
        unit: "req/s",
        results: r,
        comparisons: [{ peer: "gunicorn (sync)", ratio: r.ferry / r.gunicorn, target }],
      });
    } finally {
      await stop(ferry);
      await stop(guPeer);
    }
  }
  return rows;
}

/** Echoed messages per second through `url`, from scripts/ws_load.ts on the load CPU. */
async function wsLoad(url: string, duration: number): Promise<number> {
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

/**
 * WebSocket echo: one app file (`scripts/peers/ws_echo_app.ts`, `Deno.upgradeWebSocket`) served
 * by ferry and by Deno.serve; 10 sockets with 8 messages of 32 bytes in flight each.
 */
async function wsEchoRow(dir: string, args: Args): Promise<Row> {
  const ferry = await startFerry("ferry ws", dir, [
    "--log-format",
    "none",
    "--app",
    join(ROOT, "scripts/peers/ws_echo_app.ts"),
  ]);
  const deno = await startDenoPeer("Deno.serve ws", "ws_echo_deno.ts", dir);
  const samples: Record<string, number[]> = { ferry: [], "Deno.serve": [] };
  try {
    for (let round = 0; round < args.rounds; round++) {
      const order: Array<[string, Peer]> = [["ferry", ferry], ["Deno.serve", deno]];
      if (round % 2) order.reverse();
      for (const [name, peer] of order) {
        samples[name].push(await wsLoad(`ws://127.0.0.1:${peer.http}/`, args.duration));
      }
    }
  } finally {
    await stop(ferry);
    await stop(deno);
  }
  const r = { ferry: median(samples.ferry), "Deno.serve": median(samples["Deno.serve"]) };
  return {
    scenario: "WebSocket echo, 10 sockets × 8 messages of 32 B in flight",
    unit: "msg/s",
    results: r,
    comparisons: [{ peer: "Deno.serve", ratio: r.ferry / r["Deno.serve"], target: 0.95 }],
  };
}

async function stop(p: Peer): Promise<void> {
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
interface Sample {
  rps: number;
  bps: number;
}

/** A load run: wrk when installed, else ferry's loadgen. */
async function load(
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
    return { rps, bps };
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
  return { rps: r.requestsPerSecond, bps: r.bytesPerSecond };
}

/** Resident memory of a process, from /proc. */
async function rssBytes(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/** Per-connection memory: RSS growth with `n` idle keep-alive connections open. */
async function idleMemory(peer: Peer, n: number): Promise<number> {
  const pid = peer.child.pid;
  const request = new TextEncoder().encode("GET /hello HTTP/1.1\r\nHost: bench\r\n\r\n");
  const before = await rssBytes(pid);
  const conns: Deno.Conn[] = [];
  const buf = new Uint8Array(4096);
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

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A row of the result table. */
interface Row {
  scenario: string;
  unit: string;
  results: Record<string, number>;
  comparisons: Array<
    {
      peer: string;
      ratio: number;
      target?: number;
      met?: boolean;
      lowerIsBetter?: boolean;
      /** The server on top of the ratio, when it is not ferry. */
      of?: string;
    }
  >;
}

async function main(): Promise<void> {
  const args = parseArgs(Deno.args);
  const dir = await Deno.makeTempDir({ prefix: "ferry-bench-" });
  const www = join(dir, "www");
  await Deno.mkdir(www, { recursive: true });
  await Deno.mkdir(join(dir, "uploads"), { recursive: true });
  await Deno.writeFile(join(www, "bench-4k.bin"), crypto.getRandomValues(new Uint8Array(4096)));
  const big = new Uint8Array(1024 * 1024);
  for (let i = 0; i < big.length; i += 65536) big.set(crypto.getRandomValues(new Uint8Array(65536)), i);
  await Deno.writeFile(join(www, "bench-1m.bin"), big);
  const tls = await makeSelfSigned();
  await Deno.writeTextFile(join(dir, "cert.pem"), tls.cert);
  await Deno.writeTextFile(join(dir, "key.pem"), tls.key);
  await Deno.mkdir(join(dir, "certs"), { recursive: true });
  await Deno.writeTextFile(join(dir, "certs", "localhost-cert.pem"), tls.cert);
  await Deno.writeTextFile(join(dir, "certs", "localhost-key.pem"), tls.key);

  // wrk scripts: pipelining, and a 10 MiB PUT.
  const pipeline = join(dir, "pipeline.lua");
  await Deno.writeTextFile(
    pipeline,
    `init = function(args)
  local r = {}
  for i = 1, 16 do r[i] = wrk.format(nil, "/hello") end
  req = table.concat(r)
end
request = function() return req end
`,
  );
  const putLua = join(dir, "put.lua");
  await Deno.writeFile(join(dir, "put.bin"), new Uint8Array(10 * 1024 * 1024).fill(120));
  await Deno.writeTextFile(
    putLua,
    `wrk.method = "PUT"
wrk.body = string.rep("x", 10 * 1024 * 1024)
wrk.headers["Authorization"] = "Basic ${btoa("bench:bench")}"
`,
  );

  console.error(
    `bench: ${cpus} CPUs; servers ${taskset ? "on CPU 0" : "unpinned"}, load ${
      taskset ? "on CPU 1" : "unpinned"
    }; ` +
      `load generator: ${wrk ? "wrk" : "ferry loadgen"}; ${args.rounds} rounds of ${args.duration}s`,
  );
  const peers: Peer[] = [];
  const ferry = await startFerry("ferry", dir, ["--log-format", "none"]);
  peers.push(ferry);
  const denoServe = await startDenoPeer("Deno.serve", "deno_serve.ts", dir);
  peers.push(denoServe);
  const raw = await startDenoPeer("raw ceiling", "raw_ceiling.ts", dir);
  peers.push(raw);
  const native = await startFerryNative();
  peers.push(native);
  const node = await startNode();
  if (node) peers.push(node);
  const nginx = await startNginx(dir);
  if (nginx) peers.push(nginx);

  const rows: Row[] = [];
  const want = (id: string) => args.only === undefined || args.only.includes(id);

  /** Measures `targets` in alternating rounds; returns medians by name. */
  async function measure(
    targets: Array<{ name: string; url: string; script?: string; insecure?: boolean }>,
    connections: number,
    metric: "rps" | "bps",
  ): Promise<Record<string, number>> {
    const samples: Record<string, number[]> = {};
    for (let round = 0; round < args.rounds; round++) {
      // Rotate the order each round so no peer always runs first or last.
      const order = targets.map((_, i) => targets[(i + round) % targets.length]);
      for (const t of order) {
        const s = await load(t.url, {
          connections,
          duration: args.duration,
          script: t.script,
          insecure: t.insecure,
        });
        (samples[t.name] ??= []).push(s[metric]);
      }
    }
    return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
  }

  /**
   * Measures ferry configurations against each other on hello with 50 connections, starting fresh
   * servers every round (each warmed up for a second first), so every configuration has the same
   * history: a long-lived server that has already served the other scenarios (files, uploads,
   * TLS) runs hello with type feedback the others never saw. Rounds rotate the order, as in
   * {@linkcode measure}. Returns medians by name.
   */
  async function measureFresh(
    configs: Array<{ name: string; flags: (round: number) => string[] }>,
  ): Promise<Record<string, number>> {
    const samples: Record<string, number[]> = {};
    for (let round = 0; round < args.rounds; round++) {
      const servers = await Promise.all(configs.map((c) => startFerry(c.name, dir, c.flags(round))));
      try {
        const order = servers.map((_, i) => servers[(i + round) % servers.length]);
        for (const s of order) {
          const url = `http://127.0.0.1:${s.http}/hello`;
          await load(url, { connections: 50, duration: 1 });
          (samples[s.name] ??= []).push((await load(url, { connections: 50, duration: args.duration })).rps);
        }
      } finally {
        await Promise.all(servers.map(stop));
      }
    }
    return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
  }

  try {
    if (want("hello")) {
      const t = [{ name: "ferry", url: `http://127.0.0.1:${ferry.http}/hello` }, {
        name: "Deno.serve",
        url: `http://127.0.0.1:${denoServe.http}/hello`,
      }];
      if (node) t.push({ name: "node:http", url: `http://127.0.0.1:${node.http}/hello` });
      if (nginx) t.push({ name: "nginx", url: `http://127.0.0.1:${nginx.http}/hello` });
      t.push({ name: "raw ceiling", url: `http://127.0.0.1:${raw.http}/hello` });
      t.push({ name: "ferry native", url: `http://127.0.0.1:${native.http}/hello` });
      const r = await measure(t, 50, "rps");
      // Issue 19's targets: 0.9x the ceiling, 0.95x Deno.serve.
      const cmp: Row["comparisons"] = [
        { peer: "raw ceiling", ratio: r.ferry / r["raw ceiling"], target: 0.9 },
        { peer: "Deno.serve", ratio: r.ferry / r["Deno.serve"], target: 0.95 },
      ];
      if (node) cmp.push({ peer: "node:http", ratio: r.ferry / r["node:http"] });
      if (nginx) cmp.push({ peer: "nginx", ratio: r.ferry / r.nginx });
      // The engine alone (a bare handler, as the Deno.serve peer is), against the same two.
      cmp.push({ of: "ferry native", peer: "raw ceiling", ratio: r["ferry native"] / r["raw ceiling"] });
      cmp.push({ of: "ferry native", peer: "Deno.serve", ratio: r["ferry native"] / r["Deno.serve"] });
      cmp.push({ of: "raw ceiling", peer: "Deno.serve", ratio: r["raw ceiling"] / r["Deno.serve"] });
      rows.push({
        scenario: "hello, keep-alive, 50 connections",
        unit: "req/s",
        results: r,
        comparisons: cmp,
      });
    }
    if (want("pipelined")) {
      const t = [
        { name: "ferry", url: `http://127.0.0.1:${ferry.http}/hello`, script: pipeline },
        { name: "Deno.serve", url: `http://127.0.0.1:${denoServe.http}/hello`, script: pipeline },
      ];
      if (node) t.push({ name: "node:http", url: `http://127.0.0.1:${node.http}/hello`, script: pipeline });
      t.push({ name: "raw ceiling", url: `http://127.0.0.1:${raw.http}/hello`, script: pipeline });
      const r = await measure(t, 50, "rps");
      const cmp: Row["comparisons"] = [
        { peer: "raw ceiling", ratio: r.ferry / r["raw ceiling"], target: 0.5 },
        { peer: "Deno.serve", ratio: r.ferry / r["Deno.serve"], target: 5 },
      ];
      if (node) cmp.push({ peer: "node:http", ratio: r.ferry / r["node:http"] });
      cmp.push({ of: "raw ceiling", peer: "Deno.serve", ratio: r["raw ceiling"] / r["Deno.serve"] });
      rows.push({ scenario: "hello, pipelined 16 deep", unit: "req/s", results: r, comparisons: cmp });
    }
    for (
      const [id, file, label, target] of [["static4k", "bench-4k.bin", "static 4 KiB file", 0.8], [
        "static1m",
        "bench-1m.bin",
        "static 1 MiB file",
        0.8,
      ]] as const
    ) {
      if (!want(id)) continue;
      const t = [{ name: "ferry", url: `http://127.0.0.1:${ferry.http}/static/${file}` }];
      if (nginx) t.push({ name: "nginx", url: `http://127.0.0.1:${nginx.http}/static/${file}` });
      if (id === "static4k") {
        t.push({ name: "raw ceiling", url: `http://127.0.0.1:${raw.http}/static/${file}` });
      }
      const r = await measure(t, 50, id === "static1m" ? "bps" : "rps");
      rows.push({
        scenario: label,
        unit: id === "static1m" ? "MiB/s" : "req/s",
        results: id === "static1m"
          ? Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v / 1048576]))
          : r,
        comparisons: [
          ...(nginx ? [{ peer: "nginx", ratio: r.ferry / r.nginx, target }] : []),
          ...(r["raw ceiling"]
            ? [{ peer: "raw ceiling (4 KiB constant)", ratio: r.ferry / r["raw ceiling"] }]
            : []),
          ...(nginx && r["raw ceiling"]
            ? [{ of: "raw ceiling", peer: "nginx", ratio: r["raw ceiling"] / r.nginx }]
            : []),
        ],
      });
    }
    if (want("https")) {
      const r = await measure(
        [
          { name: "ferry", url: `https://127.0.0.1:${ferry.https}/hello`, insecure: true },
          { name: "Deno.serve", url: `https://127.0.0.1:${denoServe.https}/hello`, insecure: true },
          { name: "raw ceiling", url: `https://127.0.0.1:${raw.https}/hello`, insecure: true },
        ],
        50,
        "rps",
      );
      rows.push({
        scenario: "HTTPS hello, keep-alive",
        unit: "req/s",
        results: r,
        comparisons: [
          { peer: "raw ceiling", ratio: r.ferry / r["raw ceiling"], target: 0.9 },
          { peer: "Deno.serve", ratio: r.ferry / r["Deno.serve"], target: 0.95 },
          { of: "raw ceiling", peer: "Deno.serve", ratio: r["raw ceiling"] / r["Deno.serve"] },
        ],
      });
    }
    if (want("put")) {
      const t = [
        { name: "ferry", url: `http://127.0.0.1:${ferry.http}/uploads/bench.bin`, script: putLua },
        { name: "Deno.serve", url: `http://127.0.0.1:${denoServe.http}/upload`, script: putLua },
      ];
      if (node) t.push({ name: "node:http", url: `http://127.0.0.1:${node.http}/upload`, script: putLua });
      const r = await measure(t, 4, "rps");
      const cmp: Row["comparisons"] = [{ peer: "Deno.serve", ratio: r.ferry / r["Deno.serve"] }];
      if (node) cmp.push({ peer: "node:http", ratio: r.ferry / r["node:http"] });
      rows.push({
        scenario: "10 MiB PUT (ferry stores it, fsync'd; peers discard)",
        unit: "req/s",
        results: r,
        comparisons: cmp,
      });
    }
    if (want("observability")) {
      const log = (round: number) => ["--log-format", "json", "--log-file", join(dir, `access-${round}.log`)];
      const r = await measureFresh([
        { name: "ferry+logs", flags: (round) => log(round) },
        { name: "ferry bare", flags: () => ["--log-format", "none", "--no-metrics"] },
        { name: "ferry log only", flags: (round) => [...log(round), "--no-metrics"] },
        { name: "ferry metrics only", flags: () => ["--log-format", "none"] },
        // What `deno task start` does: plain lines to stdout (here /dev/null), and metrics.
        { name: "ferry defaults", flags: () => [] },
      ]);
      const comparisons: Row["comparisons"] = [
        { of: "ferry+logs", peer: "ferry bare", ratio: r["ferry+logs"] / r["ferry bare"], target: 0.95 },
        // The split: each half alone against neither.
        { of: "ferry log only", peer: "ferry bare", ratio: r["ferry log only"] / r["ferry bare"] },
        { of: "ferry metrics only", peer: "ferry bare", ratio: r["ferry metrics only"] / r["ferry bare"] },
        { of: "ferry defaults", peer: "ferry bare", ratio: r["ferry defaults"] / r["ferry bare"] },
      ];
      if (nginx?.logged) {
        // nginx's own price for the same JSON line, buffered as ferry's is.
        const n = await measure(
          [
            { name: "nginx", url: `http://127.0.0.1:${nginx.http}/hello` },
            { name: "nginx+log", url: `http://127.0.0.1:${nginx.logged}/hello` },
          ],
          50,
          "rps",
        );
        Object.assign(r, n);
        comparisons.push({ of: "nginx+log", peer: "nginx", ratio: n["nginx+log"] / n.nginx });
      }
      rows.push({
        scenario: "hello: JSON access log to a file + metrics, against neither (fresh servers each round)",
        unit: "req/s",
        results: r,
        comparisons,
      });
    }
    if (want("wsgi")) rows.push(...await wsgiRows(dir, measure));
    if (want("asgi")) {
      const ctx = {
        dir,
        measure,
        startFerry,
        spawn,
        pinned,
        waitForPort,
        stop,
        freePort,
        gunicorn: gunicornBin,
      };
      rows.push(...await asgiRows(ctx));
    }
    if (want("h2")) {
      rows.push(
        ...await h2Rows({
          ferry: ferry.https!,
          denoServe: denoServe.https!,
          rounds: args.rounds,
          duration: args.duration,
          pinned,
        }),
      );
    }
    if (want("ws")) rows.push(await wsEchoRow(dir, args));
    if (want("idle")) {
      const n = args.rounds === 1 && args.duration <= 1 ? 1000 : 10000;
      const f = await idleMemory(ferry, n);
      const d = await idleMemory(denoServe, n);
      const nd = node ? await idleMemory(node, n) : undefined;
      rows.push({
        scenario: `memory per idle keep-alive connection (${n})`,
        unit: "KiB",
        results: { ferry: f / 1024, "Deno.serve": d / 1024, ...(nd ? { "node:http": nd / 1024 } : {}) },
        comparisons: [
          { peer: "Deno.serve", ratio: f / d, target: 1.0, lowerIsBetter: true },
          ...(nd ? [{ peer: "node:http", ratio: f / nd, target: 1.0, lowerIsBetter: true }] : []),
        ],
      });
    }
  } finally {
    for (const p of peers) await stop(p);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }

  // The table.
  const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(2));
  const lines = [
    "| scenario | unit | medians | ratio | target | met |",
    "|---|---|---|---|---|---|",
  ];
  for (const row of rows) {
    const medians = Object.entries(row.results).map(([k, v]) => `${k} ${fmt(v)}`).join("; ");
    for (const [i, c] of row.comparisons.entries()) {
      const met = c.target === undefined
        ? ""
        : (c.lowerIsBetter ? c.ratio <= c.target : c.ratio >= c.target)
        ? "yes"
        : "no";
      c.met = c.target === undefined ? undefined : met === "yes";
      lines.push(
        `| ${i === 0 ? row.scenario : ""} | ${i === 0 ? row.unit : ""} | ${i === 0 ? medians : ""} | ` +
          `${c.of ?? "ferry"} / ${c.peer} = ${c.ratio.toFixed(2)}× | ${
            c.target === undefined ? "" : (c.lowerIsBetter ? "≤ " : "≥ ") + c.target + "×"
          } | ${met} |`,
      );
    }
    if (row.comparisons.length === 0) {
      lines.push(`| ${row.scenario} | ${row.unit} | ${medians} | (no peer) | | |`);
    }
  }
  console.log(lines.join("\n"));
  if (args.json) {
    await Deno.writeTextFile(
      args.json,
      JSON.stringify({ rows, rounds: args.rounds, duration: args.duration }, null, 2),
    );
  }
}

if (import.meta.main) await main();
