/**
 * `deno task bench`: ferry side by side with its peers on this machine (a Deno.serve handler, a
 * node:http handler, and nginx with one worker when nginx is installed), servers pinned to one
 * CPU and the load generator to another (with taskset, when present). Every scenario is measured
 * in alternating rounds; the table shows medians and ratios. The hello and HTTPS scenarios also
 * run a raw-socket ceiling (`scripts/peers/raw_ceiling.ts`, which parses nothing), so the table
 * shows how far any server on `Deno.listen` can get against Deno.serve on this machine.
 *
 * The scenarios are one table (`bench_scenarios.ts`: name, servers, load, metric, targets); the
 * peers and load generators are in `bench_kit.ts`.
 *
 * Flags: `--rounds N` (5), `--duration S` (3), `--only a,b` (scenario ids), `--quick` (1 round of
 * 1 s: a smoke run), `--json FILE` (the results as JSON too).
 *
 * @module
 */

import { asgiRows } from "./bench_python.ts";
import { h2Rows } from "./bench_h2.ts";
import { h3Rows } from "./bench_h3.ts";
import { join } from "node:path";
import { makeSelfSigned } from "../src/tls/cert.ts";
import {
  cpus,
  cpuSeconds,
  freePort,
  gunicornBin,
  idleMemory,
  load,
  median,
  type Peer,
  pinned,
  type Row,
  spawn,
  startDenoPeer,
  startFerry,
  startFerryNative,
  startNginx,
  startNode,
  stop,
  taskset,
  waitForPort,
  wrk,
  wsLoad,
} from "./bench_kit.ts";
import { isScenario, type PeerName, type Scenario, SCENARIOS, type ServerSpec } from "./bench_scenarios.ts";

/** The command line. */
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

/** What a scenario runs with: the flags, the scratch directory, the long-lived peers, the wrk scripts. */
interface Bench {
  args: Args;
  dir: string;
  peers: Map<PeerName, Peer>;
  scripts: { pipeline: string; put: string };
}

/** The URL of `spec` on `peer`. */
function urlOf(spec: ServerSpec, peer: Peer, kind: Scenario["load"]["kind"]): string {
  const port = spec.port === "https" ? peer.https : spec.port === "logged" ? peer.logged : peer.http;
  const scheme = kind === "ws" ? "ws" : spec.port === "https" ? "https" : "http";
  return `${scheme}://127.0.0.1:${port}${spec.path}`;
}

/** Whether a scenario's server is there (a long-lived peer that is not installed is not). */
function present(spec: ServerSpec, bench: Bench): boolean {
  if (spec.peer === undefined) return true;
  const peer = bench.peers.get(spec.peer);
  return peer !== undefined && (spec.port !== "logged" || peer.logged !== undefined);
}

/**
 * One sample of `spec` on `peer` under the scenario's load, in the scenario's metric, and the
 * server's CPU µs per request when the scenario asks for it.
 */
async function sample(
  s: Scenario,
  spec: ServerSpec,
  peer: Peer,
  bench: Bench,
): Promise<{ value: number; cpu?: number }> {
  const { args } = bench;
  const l = s.load;
  if (l.kind === "ws") return { value: await wsLoad(urlOf(spec, peer, "ws"), args.duration) };
  if (l.kind === "idle") return { value: (await idleMemory(peer, connectionsOf(s, args))) / 1024 };
  const before = s.cpu ? await cpuSeconds(peer.child.pid) : undefined;
  const r = await load(urlOf(spec, peer, "http"), {
    connections: l.connections,
    duration: args.duration,
    script: l.script === undefined ? undefined : bench.scripts[l.script],
    insecure: spec.port === "https",
  });
  const after = before === undefined ? undefined : await cpuSeconds(peer.child.pid);
  const value = s.metric === "MiB/s" ? r.bps / 1048576 : r.rps;
  // No CPU counted (nginx: the requests are its workers', not the master's): not measured.
  if (before === undefined || after === undefined || r.requests <= 0 || after === before) return { value };
  return { value, cpu: (after - before) * 1e6 / r.requests };
}

/** Connections the scenario's load uses in this run. */
function connectionsOf(s: Scenario, args: Args): number {
  const quick = args.rounds === 1 && args.duration <= 1;
  return quick && s.load.quickConnections !== undefined ? s.load.quickConnections : s.load.connections;
}

/**
 * Runs one scenario: its servers in alternating rounds (the order rotates each round, so no
 * server always runs first or last), fresh ones started anew each round; medians and ratios.
 */
async function run(s: Scenario, bench: Bench): Promise<Row | undefined> {
  const why = s.missing?.();
  if (why !== undefined) {
    console.error(`bench: ${why}`);
    return undefined;
  }
  const servers = s.servers.filter((spec) => present(spec, bench));
  const own: Peer[] = [];
  const samples = new Map<string, number[]>(servers.map((spec) => [spec.name, []]));
  const cpu = new Map<string, number[]>(servers.map((spec) => [spec.name, []]));
  const take = (name: string, x: { value: number; cpu?: number }) => {
    samples.get(name)!.push(x.value);
    if (x.cpu !== undefined) cpu.get(name)!.push(x.cpu);
  };
  // Idle memory is measured once: it holds connections, not a rate.
  const rounds = s.load.kind === "idle" ? 1 : bench.args.rounds;
  try {
    const kept: Array<[ServerSpec, Peer]> = [];
    for (const spec of servers) {
      if (spec.fresh) continue;
      const peer = spec.peer !== undefined ? bench.peers.get(spec.peer)! : await spec.start!(bench.dir, 0);
      if (spec.peer === undefined) own.push(peer);
      kept.push([spec, peer]);
    }
    const fresh = servers.filter((spec) => spec.fresh);
    for (let round = 0; round < rounds; round++) {
      for (const [spec, peer] of rotate(kept, round)) {
        take(spec.name, await sample(s, spec, peer, bench));
      }
      if (fresh.length === 0) continue;
      // Fresh servers: the same history for every configuration (a long-lived server that served
      // the other scenarios runs with type feedback the others never saw); a second's warm-up.
      const started = await Promise.all(fresh.map((spec) => spec.start!(bench.dir, round)));
      try {
        for (
          const [spec, peer] of rotate(fresh.map((f, i) => [f, started[i]] as [ServerSpec, Peer]), round)
        ) {
          await load(urlOf(spec, peer, "http"), { connections: s.load.connections, duration: 1 });
          take(spec.name, await sample(s, spec, peer, bench));
        }
      } finally {
        await Promise.all(started.map(stop));
      }
    }
  } finally {
    for (const p of own) await stop(p);
  }
  const results = Object.fromEntries([...samples].map(([name, xs]) => [name, median(xs)]));
  const comparisons: Row["comparisons"] = [];
  for (const t of s.targets) {
    const of = t.of ?? "ferry";
    if (results[of] === undefined || results[t.peer] === undefined) continue;
    comparisons.push({
      ...(t.of === undefined ? {} : { of }),
      peer: t.label ?? t.peer,
      ratio: results[of] / results[t.peer],
      ...(t.target === undefined ? {} : { target: t.target }),
      ...(t.lowerIsBetter ? { lowerIsBetter: true } : {}),
    });
  }
  const name = s.name.replace("{n}", String(connectionsOf(s, bench.args)));
  const cpus = [...cpu].filter(([, xs]) => xs.length > 0);
  const cpuMedians = cpus.length > 0 ? Object.fromEntries(cpus.map(([k, xs]) => [k, median(xs)])) : undefined;
  return { scenario: name, unit: s.metric, results, comparisons, ...(cpuMedians ? { cpu: cpuMedians } : {}) };
}

/** `xs` rotated by `round`. */
function rotate<T>(xs: T[], round: number): T[] {
  return xs.map((_, i) => xs[(i + round) % xs.length]);
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
  const bench: Bench = {
    args,
    dir,
    peers: new Map(peers.map((p) => [p.name as PeerName, p])),
    scripts: { pipeline, put: putLua },
  };

  /** Medians of `targets` in alternating rounds (lent to the ASGI rows). */
  async function measure(
    targets: Array<{ name: string; url: string; pid?: number }>,
    connections: number,
    metric: "rps",
    cpu?: Record<string, number>,
  ): Promise<Record<string, number>> {
    const samples: Record<string, number[]> = {};
    const cpuSamples: Record<string, number[]> = {};
    for (let round = 0; round < args.rounds; round++) {
      for (const t of rotate(targets, round)) {
        const before = t.pid === undefined ? undefined : await cpuSeconds(t.pid);
        const r = await load(t.url, { connections, duration: args.duration });
        (samples[t.name] ??= []).push(r[metric]);
        const after = t.pid === undefined ? undefined : await cpuSeconds(t.pid);
        if (before !== undefined && after !== undefined && r.requests > 0) {
          (cpuSamples[t.name] ??= []).push((after - before) * 1e6 / r.requests);
        }
      }
    }
    if (cpu !== undefined) { for (const [k, v] of Object.entries(cpuSamples)) cpu[k] = median(v); }
    return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
  }

  try {
    for (const s of SCENARIOS) {
      if (!want(s.id)) continue;
      if (isScenario(s)) {
        const row = await run(s, bench);
        if (row !== undefined) rows.push(row);
      } else if (s.id === "asgi") {
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
      } else if (s.id === "h3") {
        const { caddyBin } = await import("./bench_proxy.ts");
        const kit = {
          dir,
          startFerry,
          spawn,
          pinned,
          waitForPort,
          stop,
          freePort,
          cpuSeconds,
          caddy: caddyBin,
        };
        rows.push(...await h3Rows({ ...kit, rounds: args.rounds, duration: args.duration }));
      } else if (s.id === "h2") {
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
    const medians = Object.entries(row.results).map(([k, v]) =>
      `${k} ${fmt(v)}${row.cpu?.[k] === undefined ? "" : ` (${row.cpu[k].toFixed(1)} µs CPU/req)`}`
    ).join("; ");
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
