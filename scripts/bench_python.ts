/**
 * The ASGI and threaded-WSGI rows of `deno task bench` (`--only asgi`): ferry `--asgi` against
 * Debian's uvicorn (`--loop uvloop --http httptools`) on a raw ASGI hello, a FastAPI JSON hello, a
 * raw 10 KB body and a raw app that awaits 10 ms of I/O,
 * and ferry `--wsgi --wsgi-threads 4` against gunicorn's gthread worker with 4 threads: one Python
 * worker each, pinned to the same CPU as the servers in bench.ts, the load on the other.
 *
 * @module
 */

import { join } from "node:path";

/** The servers and measuring that bench.ts lends these rows. */
export interface PythonBenchContext {
  /** The bench's scratch directory. */
  dir: string;
  /**
   * Requests per second of each target, medians over the rounds; with `cpu`, the CPU µs per request
   * of each target given a `pid` (its process and descendants: ferry and its Python worker).
   */
  measure: (
    t: Array<{ name: string; url: string; pid?: number }>,
    connections: number,
    metric: "rps",
    cpu?: Record<string, number>,
  ) => Promise<Record<string, number>>;
  /** Starts ferry with `flags` on free ports. */
  startFerry: (name: string, dir: string, flags: string[]) => Promise<BenchPeer>;
  /** Starts a command (stderr piped). */
  spawn: (cmd: string[]) => Deno.ChildProcess;
  /** Pins a command to a CPU. */
  pinned: (cpu: number, cmd: string[]) => string[];
  /** Waits until `port` accepts. */
  waitForPort: (port: number, child: Deno.ChildProcess, name: string) => Promise<void>;
  /** Stops a peer. */
  stop: (p: BenchPeer) => Promise<void>;
  /** A free TCP port. */
  freePort: () => number;
  /** gunicorn, when installed. */
  gunicorn: string | undefined;
}

/** A started server. */
export interface BenchPeer {
  /** Its name in the table. */
  name: string;
  /** Its process. */
  child: Deno.ChildProcess;
  /** Its HTTP port. */
  http?: number;
}

/** A row of the bench table. */
export interface BenchRow {
  /** What was measured. */
  scenario: string;
  /** The unit of the results. */
  unit: string;
  /** Medians by server. */
  results: Record<string, number>;
  /** ferry against its peer, with the target. */
  comparisons: Array<{ peer: string; ratio: number; target?: number }>;
  /** CPU µs per request by server (the process and its workers), medians. */
  cpu?: Record<string, number>;
}

const PYTHON = "/usr/bin/python3";

function hasModule(module: string): boolean {
  try {
    return new Deno.Command(PYTHON, { args: ["-c", `import ${module}`], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/**
 * The rows: raw ASGI and FastAPI hello against uvicorn, WSGI gthread against gunicorn.
 *
 * @example
 * ```ts ignore
 * rows.push(...await asgiRows({ dir, measure, startFerry, spawn, pinned, waitForPort, stop, freePort, gunicorn }));
 * ```
 */
export async function asgiRows(ctx: PythonBenchContext): Promise<BenchRow[]> {
  const apps = join(ctx.dir, "asgi");
  await Deno.mkdir(apps, { recursive: true });
  await Deno.writeTextFile(
    join(apps, "rawhello.py"),
    `async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"12")]})
    await send({"type": "http.response.body", "body": b"Hello world\\n"})
`,
  );
  await Deno.writeTextFile(
    join(apps, "fastapihello.py"),
    `from fastapi import FastAPI
app = FastAPI()

@app.get("/hello")
async def hello():
    return {"message": "Hello world"}
`,
  );
  await Deno.writeTextFile(
    join(apps, "rawbig.py"),
    `BODY = b"x" * 10240

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"10240")]})
    await send({"type": "http.response.body", "body": BODY})
`,
  );
  await Deno.writeTextFile(
    join(apps, "sleepy.py"),
    `import asyncio

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await asyncio.sleep(0.01)  # the app's own I/O: a database, another service
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"12")]})
    await send({"type": "http.response.body", "body": b"Hello world\\n"})
`,
  );
  await Deno.writeTextFile(
    join(apps, "purewsgi.py"),
    `def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "12")])
    return [b"Hello world\\n"]
`,
  );
  const rows: BenchRow[] = [];
  const python = [
    "--wsgi-workers",
    "1",
    "--wsgi-python",
    PYTHON,
    "--wsgi-chdir",
    apps,
    "--log-format",
    "none",
  ];
  const uvicorn = hasModule("uvicorn");
  if (!uvicorn) console.error("bench: Debian's python3-uvicorn is missing: the ASGI rows are skipped");
  // [label, app, run, target]: the hello rows are the gateway's own cost; 10 KB is granian's case;
  // an app that waits 10 ms on I/O is where the app, not the server, is the cost.
  const cases: Array<[string, string, boolean, number]> = [
    ["raw ASGI hello", "rawhello:app", uvicorn, 1.2],
    ["FastAPI JSON hello", "fastapihello:app", uvicorn && hasModule("fastapi"), 1.1],
    ["raw ASGI 10 KB body", "rawbig:app", uvicorn, 1],
    ["raw ASGI awaiting 10 ms of I/O", "sleepy:app", uvicorn, 1],
  ];
  for (const [label, app, ok, target] of cases) {
    if (!ok) continue;
    const ferry = await ctx.startFerry("ferry --asgi", ctx.dir, ["--asgi", app, ...python]);
    const port = ctx.freePort();
    const child = ctx.spawn(ctx.pinned(0, [
      PYTHON,
      "-m",
      "uvicorn",
      app,
      "--app-dir",
      apps,
      "--port",
      String(port),
      "--loop",
      "uvloop",
      "--http",
      "httptools",
      "--workers",
      "1",
      "--no-access-log",
      "--log-level",
      "warning",
    ]));
    const peer: BenchPeer = { name: "uvicorn", child, http: port };
    try {
      await ctx.waitForPort(port, child, "uvicorn");
      const cpu: Record<string, number> = {};
      const r = await ctx.measure(
        [
          { name: "ferry", url: `http://127.0.0.1:${ferry.http}/hello`, pid: ferry.child.pid },
          { name: "uvicorn", url: `http://127.0.0.1:${port}/hello`, pid: child.pid },
        ],
        10,
        "rps",
        cpu,
      );
      rows.push({
        scenario: `${label}, 1 Python worker each, 10 connections`,
        unit: "req/s",
        results: r,
        cpu,
        comparisons: [{ peer: "uvicorn (uvloop, httptools)", ratio: r.ferry / r.uvicorn, target }],
      });
    } finally {
      await ctx.stop(ferry);
      await ctx.stop(peer);
    }
  }
  if (ctx.gunicorn === undefined) {
    console.error("bench: gunicorn is missing: the gthread row is skipped");
    return rows;
  }
  const ferry = await ctx.startFerry("ferry --wsgi-threads", ctx.dir, [
    "--wsgi",
    "purewsgi:app",
    "--wsgi-threads",
    "4",
    ...python,
  ]);
  const port = ctx.freePort();
  const child = ctx.spawn(ctx.pinned(0, [
    ctx.gunicorn,
    "-k",
    "gthread",
    "--threads",
    "4",
    "-w",
    "1",
    "-b",
    `127.0.0.1:${port}`,
    "--chdir",
    apps,
    "purewsgi:app",
  ]));
  const peer: BenchPeer = { name: "gunicorn", child, http: port };
  try {
    await ctx.waitForPort(port, child, "gunicorn");
    const r = await ctx.measure(
      [
        { name: "ferry", url: `http://127.0.0.1:${ferry.http}/hello` },
        { name: "gunicorn", url: `http://127.0.0.1:${port}/hello` },
      ],
      10,
      "rps",
    );
    rows.push({
      scenario: "pure WSGI hello, 1 worker with 4 threads each, 10 connections",
      unit: "req/s",
      results: r,
      comparisons: [{ peer: "gunicorn (gthread, 4 threads)", ratio: r.ferry / r.gunicorn, target: 1.5 }],
    });
  } finally {
    await ctx.stop(ferry);
    await ctx.stop(peer);
  }
  return rows;
}
