/**
 * The HTTP/2 rows of `deno task bench` (`--only h2`): `h2load -c 10 -m 100` against ferry and a
 * Deno.serve TLS server (hyper, which speaks HTTP/2), on hello and on a 4 KiB static file, and
 * ferry over HTTP/2 against ferry over HTTP/1.1 on the same TLS listener (h2load `--h1`, one
 * request at a time per connection, as browsers send them). The load runs pinned to the CPU the
 * servers are not on, for the bench's duration, in alternating rounds.
 *
 * @module
 */

/** What bench.ts lends these rows. */
export interface H2BenchContext {
  /** ferry's HTTPS port. */
  ferry: number;
  /** The Deno.serve peer's HTTPS port. */
  denoServe: number;
  /** Rounds, and seconds of each run. */
  rounds: number;
  /** Seconds of each run. */
  duration: number;
  /** Pins a command to a CPU. */
  pinned: (cpu: number, cmd: string[]) => string[];
}

/** One row, in bench.ts's shape. */
export interface H2BenchRow {
  /** What was measured. */
  scenario: string;
  /** The unit of the results. */
  unit: string;
  /** Medians by server. */
  results: Record<string, number>;
  /** Ratios. */
  comparisons: Array<{ peer: string; ratio: number; target?: number; of?: string }>;
}

/** Requests per second h2load reached (`--h1`: HTTP/1.1 over TLS). */
async function h2load(ctx: H2BenchContext, url: string, streams: number, h1: boolean): Promise<number> {
  const cmd = ctx.pinned(1, [
    "h2load",
    "-c",
    "10",
    "-m",
    String(streams),
    "-D",
    String(ctx.duration),
    "--warm-up-time",
    "1",
    ...(h1 ? ["--h1"] : []),
    url,
  ]);
  const out = await new Deno.Command(cmd[0], { args: cmd.slice(1), stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout);
  const rps = Number(/finished in [^,]+, ([\d.]+) req\/s/.exec(text)?.[1] ?? NaN);
  const failed = Number(/(\d+) failed/.exec(text)?.[1] ?? 0);
  if (!Number.isFinite(rps) || failed > 0) throw new Error(`h2load failed on ${url}: ${text}`);
  return rps;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The HTTP/2 rows. */
export async function h2Rows(ctx: H2BenchContext): Promise<H2BenchRow[]> {
  const rows: H2BenchRow[] = [];
  for (const [path, label] of [["/hello", "hello"], ["/static/bench-4k.bin", "static 4 KiB file"]] as const) {
    const targets = [
      { name: "ferry h2", url: `https://127.0.0.1:${ctx.ferry}${path}`, streams: 100, h1: false },
      { name: "Deno.serve h2", url: `https://127.0.0.1:${ctx.denoServe}${path}`, streams: 100, h1: false },
      { name: "ferry HTTP/1.1", url: `https://127.0.0.1:${ctx.ferry}${path}`, streams: 1, h1: true },
    ];
    const samples: Record<string, number[]> = {};
    for (let round = 0; round < ctx.rounds; round++) {
      const order = targets.map((_, i) => targets[(i + round) % targets.length]);
      for (const t of order) (samples[t.name] ??= []).push(await h2load(ctx, t.url, t.streams, t.h1));
    }
    const r = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
    rows.push({
      scenario: `HTTP/2 ${label}, h2load -c 10 -m 100 (TLS)`,
      unit: "req/s",
      results: r,
      comparisons: [
        { of: "ferry h2", peer: "Deno.serve h2", ratio: r["ferry h2"] / r["Deno.serve h2"], target: 1.0 },
        { of: "ferry h2", peer: "ferry HTTP/1.1 (TLS, -m 1)", ratio: r["ferry h2"] / r["ferry HTTP/1.1"] },
      ],
    });
  }
  return rows;
}
