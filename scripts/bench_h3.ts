/**
 * The HTTP/3 rows of `deno task bench` (`--only h3`): hello and a 4 KiB static file over HTTP/3,
 * ferry (`--http3`) against Caddy 2.6.2 with the same client (`deno task loadgen --h3`: 2
 * connections × 16 streams, pinned to the CPU the servers are not on), and against ferry's own
 * HTTP/2 (h2load -c 2 -m 16) on the same process; each row reports req/s medians and the server's
 * CPU microseconds per request (the steadier number on a loaded machine), in alternating rounds.
 *
 * @module
 */

import { join } from "node:path";
import type { Peer } from "./bench_kit.ts";
import type { H2BenchRow } from "./bench_h2.ts";

/** What bench.ts lends these rows. */
export interface H3BenchContext {
  /** The bench's scratch directory (the site in `www/`, the certificate in `certs/`). */
  dir: string;
  /** Rounds. */
  rounds: number;
  /** Seconds of each run. */
  duration: number;
  /** Pins a command to a CPU. */
  pinned: (cpu: number, cmd: string[]) => string[];
  /** Starts ferry with flags. */
  startFerry: (name: string, dir: string, flags: string[]) => Promise<Peer>;
  /** Spawns a command. */
  spawn: (cmd: string[], env?: Record<string, string>) => Deno.ChildProcess;
  /** Waits for a TCP port. */
  waitForPort: (port: number, child: Deno.ChildProcess, name: string) => Promise<void>;
  /** Stops a peer. */
  stop: (p: Peer) => Promise<void>;
  /** A free port. */
  freePort: () => number;
  /** CPU seconds of a process and its children. */
  cpuSeconds: (pid: number) => Promise<number | undefined>;
  /** Caddy's binary, when installed. */
  caddy: string | undefined;
}

interface Sample {
  rps: number;
  cpuUsPerRequest: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function text(cmd: string[]): Promise<string> {
  const out = await new Deno.Command(cmd[0], { args: cmd.slice(1), stdout: "piped", stderr: "piped" })
    .output();
  return new TextDecoder().decode(out.stdout);
}

/** One run of `cmd` against the server `pid`: its requests from `parse`, and the server's CPU. */
async function measure(
  ctx: H3BenchContext,
  pid: number,
  cmd: string[],
  parse: (out: string) => { requests: number; rps: number },
): Promise<Sample> {
  const before = await ctx.cpuSeconds(pid) ?? 0;
  const r = parse(await text(ctx.pinned(1, cmd)));
  const after = await ctx.cpuSeconds(pid) ?? 0;
  if (!(r.requests > 0)) throw new Error(`no requests: ${cmd.join(" ")}`);
  return { rps: r.rps, cpuUsPerRequest: (after - before) * 1e6 / r.requests };
}

async function startCaddy(ctx: H3BenchContext): Promise<Peer> {
  const port = ctx.freePort();
  const dir = join(ctx.dir, "caddy-h3");
  await Deno.mkdir(dir, { recursive: true });
  const file = join(dir, "Caddyfile");
  await Deno.writeTextFile(
    file,
    `{\n\tadmin off\n\tauto_https disable_redirects\n\tskip_install_trust\n\tstorage file_system ${dir}/data\n}\n` +
      `https://localhost:${port} {\n\tbind 127.0.0.1\n` +
      `\ttls ${join(ctx.dir, "certs/localhost-cert.pem")} ${join(ctx.dir, "certs/localhost-key.pem")}\n` +
      `\trespond /hello "Hello, World!" 200\n\thandle_path /static/* {\n\t\troot * ${
        join(ctx.dir, "www")
      }\n` +
      `\t\tfile_server\n\t}\n\tlog {\n\t\toutput discard\n\t}\n}\n`,
  );
  const child = ctx.spawn(ctx.pinned(0, [ctx.caddy!, "run", "--config", file, "--adapter", "caddyfile"]), {
    HOME: dir,
    XDG_DATA_HOME: dir,
    XDG_CONFIG_HOME: dir,
  });
  await ctx.waitForPort(port, child, "caddy");
  return { name: "caddy h3", child, https: port };
}

/** The HTTP/3 rows (none without caddy: the row's reference). */
export async function h3Rows(ctx: H3BenchContext): Promise<H2BenchRow[]> {
  if (ctx.caddy === undefined) return [];
  const ferry = await ctx.startFerry("ferry h3", ctx.dir, ["--http3", "--log-format", "none"]);
  const caddy = await startCaddy(ctx);
  const ca = join(ctx.dir, "certs/localhost-cert.pem");
  const loadgen = (port: number, path: string) => [
    Deno.execPath(),
    "run",
    "--allow-net",
    "--allow-read",
    "--allow-env",
    "--allow-run",
    "--unstable-net",
    join(import.meta.dirname ?? ".", "loadgen.ts"),
    "--h3",
    "--url",
    `https://localhost:${port}${path}`,
    "--ca-cert",
    ca,
    "--connections",
    "2",
    "--pipeline",
    "16",
    "--duration",
    String(ctx.duration),
    "--no-progress",
    "--json",
  ];
  const fromLoadgen = (out: string) => {
    const r = JSON.parse(out.slice(out.indexOf("{")));
    return { requests: r.requests, rps: r.requestsPerSecond };
  };
  const fromH2load = (out: string) => ({
    requests: Number(/requests: \d+ total, \d+ started, (\d+) done/.exec(out)?.[1] ?? NaN),
    rps: Number(/finished in [^,]+, ([\d.]+) req\/s/.exec(out)?.[1] ?? NaN),
  });
  const rows: H2BenchRow[] = [];
  try {
    for (
      const [path, label] of [["/hello", "hello"], ["/static/bench-4k.bin", "static 4 KiB file"]] as const
    ) {
      const targets = [
        { name: "ferry h3", pid: ferry.child.pid, cmd: loadgen(ferry.https!, path), parse: fromLoadgen },
        { name: "caddy h3", pid: caddy.child.pid, cmd: loadgen(caddy.https!, path), parse: fromLoadgen },
        {
          name: "ferry h2",
          pid: ferry.child.pid,
          cmd: [
            "h2load",
            "-c",
            "2",
            "-m",
            "16",
            "-D",
            String(ctx.duration),
            `https://127.0.0.1:${ferry.https}${path}`,
          ],
          parse: fromH2load,
        },
      ];
      const samples: Record<string, Sample[]> = {};
      for (let round = 0; round < ctx.rounds; round++) {
        const order = targets.map((_, i) => targets[(i + round) % targets.length]);
        for (const t of order) (samples[t.name] ??= []).push(await measure(ctx, t.pid, t.cmd, t.parse));
      }
      const rps = (n: string) => median(samples[n].map((s) => s.rps));
      const cpu = (n: string) => median(samples[n].map((s) => s.cpuUsPerRequest));
      rows.push({
        scenario: `HTTP/3 ${label}, loadgen --h3 2 connections × 16 streams (h2: h2load -c 2 -m 16)`,
        unit: "req/s",
        results: { "ferry h3": rps("ferry h3"), "caddy h3": rps("caddy h3"), "ferry h2": rps("ferry h2") },
        comparisons: [
          { of: "ferry h3", peer: "caddy h3", ratio: rps("ferry h3") / rps("caddy h3"), target: 1.0 },
          { of: "ferry h3", peer: "ferry h2", ratio: rps("ferry h3") / rps("ferry h2") },
        ],
      });
      rows.push({
        scenario: `HTTP/3 ${label}: server CPU per request`,
        unit: "µs CPU/req",
        results: { "ferry h3": cpu("ferry h3"), "caddy h3": cpu("caddy h3"), "ferry h2": cpu("ferry h2") },
        comparisons: [
          { of: "caddy h3", peer: "ferry h3", ratio: cpu("caddy h3") / cpu("ferry h3"), target: 1.0 },
          { of: "ferry h2", peer: "ferry h3", ratio: cpu("ferry h2") / cpu("ferry h3") },
        ],
      });
    }
  } finally {
    await ctx.stop(ferry);
    await ctx.stop(caddy);
  }
  return rows;
}
