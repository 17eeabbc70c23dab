/**
 * Command-line flags → options. Every flag maps onto one field of {@linkcode ServerOptions} (or
 * of the TLS settings); a bad flag or value becomes a {@linkcode CliError} with one line saying
 * what is wrong, which `main.ts` prints before exiting with status 2.
 *
 * @module
 */

import { Command, CommanderError, InvalidArgumentError } from "commander";
import { DEFAULT_OPTIONS, type LogFormat, type ServerOptions } from "./options.ts";
import type { WsgiGatewayOptions } from "./app/python/pool.ts";

/** Everything the command line configures. */
export interface CliConfig {
  /** Server options. */
  options: ServerOptions;
  /** TLS: certificate file, key file, directory of the self-signed pair. */
  tls: { cert: string; key: string; certDir: string };
  /** The Python WSGI gateway, when `--wsgi` is given. */
  wsgi?: WsgiGatewayOptions;
}

/** A command line that cannot be used; `exitCode` is 0 for --help and --version. */
export class CliError extends Error {
  /** Exit status for the process. */
  readonly exitCode: number;
  /** Text for stdout (help), if any. */
  readonly output: string;

  /** An error with a one-line message, an exit code, and optional output. */
  constructor(message: string, exitCode: number, output = "") {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
    this.output = output;
  }
}

export { VERSION } from "./version.ts";
import { VERSION } from "./version.ts";

function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

/** Sizes: a whole number of bytes, or with a K, M or G suffix (powers of 1024). */
function bytes(min: number) {
  return (value: string): number => {
    const m = /^(\d+)\s*([kmg]i?b?)?$/i.exec(value);
    if (!m) throw new InvalidArgumentError("expected a size in bytes, like 1048576 or 1M");
    const unit = (m[2] ?? "").charAt(0).toLowerCase();
    const n = Number(m[1]) * (unit === "k" ? 1024 : unit === "m" ? 1024 ** 2 : unit === "g" ? 1024 ** 3 : 1);
    if (!Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`expected a size of at least ${min} bytes`);
    }
    return n;
  };
}

function seconds(value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value)) {
    throw new InvalidArgumentError("expected a number of seconds, like 10 or 0.5");
  }
  return Number(value);
}

function dotfiles(value: string): "allow" | "deny" {
  if (value !== "allow" && value !== "deny") throw new InvalidArgumentError("expected allow or deny");
  return value;
}

function workersArg(value: string): number {
  if (value === "auto") return 0;
  return integer(1, 256)(value);
}

function logFormat(value: string): LogFormat {
  if (!["plain", "json", "combined", "none"].includes(value)) {
    throw new InvalidArgumentError("expected plain, json, combined or none");
  }
  return value as LogFormat;
}

/** Builds the commander program (also used to print --help). */
export function program(): Command {
  const d = DEFAULT_OPTIONS;
  return new Command("ferry")
    .description("ferry: an HTTPS/HTTP/1.1 server for static files, apps and uploads")
    .version(VERSION, "--version", "print the version and exit")
    .helpOption("-h, --help", "print this help and exit")
    .option("--host <addr>", "address to listen on", d.host)
    .option("--port <n>", "HTTP port (0: any free port)", integer(0, 65535), d.port)
    .option("--https-port <n>", "HTTPS port (0: any free port)", integer(0, 65535), d.httpsPort)
    .option("--no-http", "do not open the HTTP listener")
    .option("--no-https", "do not open the HTTPS listener")
    .option("--cert <file>", "PEM certificate chain for HTTPS (with --key)", "")
    .option("--key <file>", "PEM private key for HTTPS (with --cert)", "")
    .option("--cert-dir <dir>", "where the self-signed localhost certificate is kept", "./certs")
    .option("--redirect-http", "answer every HTTP request with 308 to the HTTPS listener")
    .option(
      "--hsts <seconds>",
      "send Strict-Transport-Security: max-age=<seconds> over HTTPS (0: off)",
      integer(0),
      0,
    )
    .option("--root <dir>", "static file root, served under /static/", d.root)
    .option(
      "--static-prefix <prefix>",
      "URL prefix of the static files (/ falls through to the app)",
      d.staticPrefix,
    )
    .option("--dotfiles <allow|deny>", "serve dotfiles or answer 404", dotfiles, d.dotfiles)
    .option("--dir-listing", "HTML listings for directories without index.html")
    .option("--cache-control <value>", "Cache-Control for static files", d.cacheControl)
    .option(
      "--cache-max-bytes <bytes>",
      "memory for small static files (0: no cache)",
      bytes(0),
      d.cacheMaxBytes,
    )
    .option("--upload-dir <dir>", "directory that /uploads/ writes into", d.uploadDir)
    .option("--max-upload-bytes <bytes>", "largest upload (413 beyond)", bytes(0), d.maxUploadBytes)
    .option(
      "--app <module>",
      "app module (default export: WSGI-style app or { fetch }); default: built-in app",
      "",
    )
    .option(
      "--max-connections <n>",
      "open connections before new ones get 503 (0: no cap)",
      integer(0),
      d.maxConnections,
    )
    .option("--max-target-length <bytes>", "longest request-target (414 beyond)", bytes(1), d.maxTargetLength)
    .option("--max-header-bytes <bytes>", "largest request head (431 beyond)", bytes(64), d.maxHeaderBytes)
    .option(
      "--max-header-count <n>",
      "most header fields in a request (431 beyond)",
      integer(1, 10000),
      d.maxHeaderCount,
    )
    .option(
      "--max-body-bytes <bytes>",
      "largest request body for the app (413 beyond; 0: none)",
      bytes(0),
      d.maxBodyBytes,
    )
    .option(
      "--header-timeout <s>",
      "seconds to receive a request head (408 after; 0: no limit)",
      seconds,
      d.headerTimeout,
    )
    .option(
      "--keepalive-timeout <s>",
      "seconds an idle connection stays open (0: no keep-alive)",
      seconds,
      d.keepaliveTimeout,
    )
    .option(
      "--body-timeout <s>",
      "seconds without body progress before 408/close (0: no limit)",
      seconds,
      d.bodyTimeout,
    )
    .option(
      "--min-body-rate <bytes/s>",
      "slowest average a request body may arrive at, after a grace of --body-timeout (0: no floor)",
      integer(0),
      d.minBodyRate,
    )
    .option("--drain-timeout <s>", "seconds a shutdown waits for in-flight requests", seconds, d.drainTimeout)
    .option("--no-metrics", "do not record latency or serve /_metrics")
    .option("--metrics-allow <cidrs>", "who may read /_metrics (comma-separated CIDR blocks)", d.metricsAllow)
    .option("--log-file <path>", "access log file, rotated and gzipped (default: stdout)", d.logFile)
    .option("--error-log <path>", "error log file, rotated and gzipped (default: stderr)", d.errorLog)
    .option(
      "--log-rotate-size <size>",
      "rotate log files at this size, like 10M (empty: never)",
      d.logRotateSize,
    )
    .option(
      "--log-rotate-interval <age>",
      "rotate log files at this age, like 1d or 6h (empty: never)",
      d.logRotateInterval,
    )
    .option("--log-rotate-keep <n>", "rotated log files kept (0: all)", integer(0), d.logRotateKeep)
    .option(
      "--wsgi <module:callable>",
      "serve a Python WSGI app (Flask, Django...): MODULE:CALLABLE or MODULE:factory()",
    )
    .option("--wsgi-python <path>", "the Python interpreter for --wsgi", "python3")
    .option("--wsgi-chdir <dir>", "working directory of the Python workers, first on sys.path", ".")
    .option("--wsgi-pythonpath <dirs>", "more directories for sys.path, comma-separated", "")
    .option("--wsgi-workers <n>", "Python worker processes (0: CPUs, at least 2)", integer(0, 1024), 0)
    .option("--wsgi-timeout <s>", "seconds a Python request may run before 504 (0: no limit)", seconds, 30)
    .option("--wsgi-max-requests <n>", "recycle a Python worker after N requests (0: never)", integer(0), 0)
    .option(
      "--wsgi-max-requests-jitter <n>",
      "up to N more requests before recycling, at random",
      integer(0),
      0,
    )
    .option(
      "--wsgi-max-queue <n>",
      "requests waiting for a Python worker at most (then 503)",
      integer(0),
      100,
    )
    .option("--wsgi-queue-timeout <s>", "seconds a request waits for a Python worker (then 503)", seconds, 10)
    .option("--wsgi-graceful-timeout <s>", "seconds a Python worker gets to exit before SIGKILL", seconds, 30)
    .option(
      "--wsgi-pipeline <n>",
      "requests sent to a busy Python worker at once (1: one at a time)",
      integer(1, 16),
      4,
    )
    .option(
      "--wsgi-max-rss <size>",
      "recycle a Python worker whose memory passes SIZE, like 512M (0: no bound)",
      bytes(0),
      0,
    )
    .option("--workers <n|auto>", "worker isolates sharing the ports (auto: one per CPU)", workersArg, 1)
    .option("--log-format <format>", "access log: plain, json, combined or none", logFormat, d.logFormat)
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
}

/**
 * Parses the arguments after the program name. Throws {@linkcode CliError}.
 *
 * @example
 * ```ts
 * import { parseCli } from "./cli.ts";
 * console.log(parseCli(["--port", "9000"]).options.port); // 9000
 * ```
 */
export function parseCli(args: string[]): CliConfig {
  const cmd = program();
  try {
    cmd.parse(args, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.help") {
        throw new CliError("help", 0, cmd.helpInformation());
      }
      if (e.code === "commander.version") throw new CliError("version", 0, VERSION + "\n");
      throw new CliError(e.message.replace(/^error: /, "").split("\n")[0], 2);
    }
    throw e;
  }
  const f = cmd.opts();
  return {
    options: {
      host: f.host,
      port: f.port,
      httpsPort: f.httpsPort,
      http: f.http,
      https: f.https,
      root: f.root,
      uploadDir: f.uploadDir,
      maxUploadBytes: f.maxUploadBytes,
      staticPrefix: f.staticPrefix,
      dotfiles: f.dotfiles,
      dirListing: f.dirListing ?? false,
      cacheControl: f.cacheControl,
      cacheMaxBytes: f.cacheMaxBytes,
      app: f.app,
      maxConnections: f.maxConnections,
      maxTargetLength: f.maxTargetLength,
      maxHeaderBytes: f.maxHeaderBytes,
      maxHeaderCount: f.maxHeaderCount,
      maxBodyBytes: f.maxBodyBytes,
      headerTimeout: f.headerTimeout,
      keepaliveTimeout: f.keepaliveTimeout,
      bodyTimeout: f.bodyTimeout,
      minBodyRate: f.minBodyRate,
      drainTimeout: f.drainTimeout,
      logFormat: f.logFormat,
      redirectHttp: f.redirectHttp ?? false,
      metrics: f.metrics,
      workers: f.workers,
      metricsAllow: f.metricsAllow,
      logFile: f.logFile,
      errorLog: f.errorLog,
      logRotateSize: f.logRotateSize,
      logRotateInterval: f.logRotateInterval,
      logRotateKeep: f.logRotateKeep,
      hsts: f.hsts,
    },
    tls: { cert: f.cert, key: f.key, certDir: f.certDir },
    wsgi: f.wsgi === undefined ? undefined : wsgiConfig(f),
  };
}

function wsgiConfig(f: Record<string, string | number | undefined>): WsgiGatewayOptions {
  if (f.app !== undefined && f.app !== "") {
    throw new CliError("--wsgi and --app exclude each other: choose the Python app or the TypeScript one", 2);
  }
  if (!/^[A-Za-z_][\w.]*:.+$/.test(String(f.wsgi))) {
    throw new CliError(`--wsgi must look like MODULE:CALLABLE (mysite.wsgi:application), got ${f.wsgi}`, 2);
  }
  return {
    app: String(f.wsgi),
    python: String(f.wsgiPython),
    chdir: String(f.wsgiChdir),
    pythonpath: String(f.wsgiPythonpath).split(/[,:]/).filter((p) => p !== ""),
    workers: Number(f.wsgiWorkers),
    timeout: Number(f.wsgiTimeout),
    maxRequests: Number(f.wsgiMaxRequests),
    maxRequestsJitter: Number(f.wsgiMaxRequestsJitter),
    maxQueue: Number(f.wsgiMaxQueue),
    queueTimeout: Number(f.wsgiQueueTimeout),
    gracefulTimeout: Number(f.wsgiGracefulTimeout),
    maxRss: Number(f.wsgiMaxRss),
    pipeline: Number(f.wsgiPipeline),
  };
}
