/**
 * Starts real ferry servers for tests: in-process on port 0, or as a child process running
 * `main.ts` (for signals and the CLI).
 *
 * @module
 */

import { type Handler, type Mount, Server, type ServerOptions, type TlsMaterial } from "../../src/mod.ts";
import { defaultMounts, resolveOptions } from "../../src/mod.ts";
import { exampleApp } from "../../src/app/example_app.ts";
import { wsgiHandler } from "../../src/app/wsgi.ts";
import { Logger } from "../../src/log/logger.ts";
import { Stats } from "../../src/stats.ts";
import { fromFileUrl } from "./paths.ts";
import { ferryArgs } from "./start_flags.ts";

/** The repository root. */
export const ROOT: string = fromFileUrl(new URL("../../", import.meta.url));

/** A sink that keeps log lines in memory, for tests that read the logs. */
export class MemorySink {
  /** Everything written. */
  text = "";
  /** Appends the bytes. */
  write(p: Uint8Array): Promise<number> {
    this.text += new TextDecoder().decode(p);
    return Promise.resolve(p.length);
  }
}

/** A started in-process server. */
export interface TestServer extends AsyncDisposable {
  /** The server. */
  server: Server;
  /** Its HTTP port. */
  port: number;
  /** Its HTTPS port, when https is on. */
  httpsPort: number;
  /** Error-log lines (and access lines when a format is set). */
  logs: MemorySink;
}

/** Options for {@linkcode startServer}. */
export interface StartOptions extends ServerOptions {
  /** The app handler; the built-in one by default. */
  handler?: Handler;
  /** Mounts; ferry's defaults by default. */
  mounts?: Mount[];
  /** TLS material, when https is on. */
  tlsMaterial?: TlsMaterial;
  /** A logger to use instead of the in-memory one. */
  log?: Logger;
  /** Counters to use. */
  stats?: Stats;
}

/** Starts a server on 127.0.0.1, port 0, HTTPS off, access log off, unless `opts` says otherwise. */
export async function startServer(opts: StartOptions = {}): Promise<TestServer> {
  const { handler, mounts, tlsMaterial, log: givenLog, stats: givenStats, ...options } = opts;
  const logs = new MemorySink();
  const merged = resolveOptions({ host: "127.0.0.1", port: 0, https: false, logFormat: "none", ...options });
  const log = givenLog ?? new Logger(merged.logFormat ?? "none", logs, logs, "debug");
  const app = handler ?? wsgiHandler(exampleApp, { log });
  const stats = givenStats ?? new Stats();
  const server = new Server(merged, {
    app,
    stats,
    mounts: mounts ?? defaultMounts(merged, app, log, stats),
    tls: tlsMaterial,
    log,
  });
  await server.listen();
  return {
    server,
    port: server.httpAddr?.port ?? 0,
    httpsPort: server.httpsAddr?.port ?? 0,
    logs,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/** Polls `cond` every 10 ms until it holds; fails after `ms` (a guard against hanging, not a timing assertion). */
export async function until(cond: () => boolean, what: string, ms = 10000): Promise<void> {
  const give = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > give) throw new Error(`gave up waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resident memory of a process in bytes (Linux /proc). */
export async function rssOf(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/** A ferry process started from main.ts, with its stdout lines. */
export interface ChildServer extends AsyncDisposable {
  /** The process. */
  child: Deno.ChildProcess;
  /** URLs from the start-up lines. */
  urls: string[];
  /** Everything printed so far on stdout. */
  stdout: () => string;
  /** Everything printed so far on stderr. */
  stderr: () => string;
  /** Resolves with the exit status. */
  status: Promise<Deno.CommandStatus>;
}

/** Runs `main.ts ...args` with the start task's permissions and waits for its start-up lines (one per listener). */
export async function startChild(
  args: string[],
  listeners = 1,
  cwd = ROOT,
  env: Record<string, string> = {},
): Promise<ChildServer> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ferryArgs(args),
    cwd,
    env,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  let out = "";
  let err = "";
  const pump = async (s: ReadableStream<Uint8Array>, add: (t: string) => void) => {
    const dec = new TextDecoder();
    for await (const chunk of s) add(dec.decode(chunk, { stream: true }));
  };
  const pumps = Promise.all([pump(child.stdout, (t) => out += t), pump(child.stderr, (t) => err += t)]);
  const status = child.status.then(async (s) => {
    await pumps;
    return s;
  });
  let exited = false;
  status.then(() => exited = true);
  await until(
    () => exited || (out.match(/listening on /g) ?? []).length >= listeners,
    `ferry to start (stdout: ${out} stderr: ${err})`,
    30000,
  );
  const urls = [...out.matchAll(/listening on (\S+)/g)].map((m) => m[1]);
  return {
    child,
    urls,
    stdout: () => out,
    stderr: () => err,
    status,
    async [Symbol.asyncDispose]() {
      if (!exited) {
        try {
          child.kill("SIGKILL");
        } catch {
          // gone
        }
      }
      await status;
    },
  };
}

/** What a finished `main.ts` run printed, and its exit status. */
export interface FerryRun {
  /** Exit status. */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

/** Runs `main.ts ...args` with the start task's permissions to its end (for start-up errors and --help). */
export async function runFerry(args: string[]): Promise<FerryRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ferryArgs(args),
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
