/**
 * Command-line flags → options. Every flag maps onto one field of {@linkcode ServerOptions} (or
 * of the TLS settings); a bad flag or value becomes a {@linkcode CliError} with one line saying
 * what is wrong, which `main.ts` prints before exiting with status 2.
 *
 * @module
 */

import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { isIP } from "node:net";
import { AllowList } from "./metrics/cidr.ts";
import { formatSize, parseInterval, parseSize } from "./units.ts";
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

/** Sizes: one syntax for every size flag (bytes, or K, M, G in any case). */
function bytes(min: number) {
  return (value: string): number => {
    let n: number;
    try {
      n = parseSize(value);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
    if (n < min) throw new InvalidArgumentError(`expected a size of at least ${formatSize(min)}`);
    return n;
  };
}

/** A size kept as written (the log options are strings), checked now. */
function sizeText(value: string): string {
  if (value !== "") bytes(0)(value);
  return value;
}

/** An interval kept as written, checked now. */
function intervalText(value: string): string {
  if (value === "") return value;
  try {
    parseInterval(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return value;
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

/** An address to listen on: an IPv4 or IPv6 address, or a host name. */
function hostArg(value: string): string {
  if (isIP(value) !== 0) return value;
  if (/^\d+(\.\d+){3}$/.test(value)) {
    throw new InvalidArgumentError("not an IPv4 address (each part is 0-255)");
  }
  if (
    !/^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/
      .test(value)
  ) {
    throw new InvalidArgumentError("expected an IP address or a host name, like 127.0.0.1, ::1 or localhost");
  }
  return value;
}

function prefixArg(value: string): string {
  if (!value.startsWith("/") || !value.endsWith("/")) {
    throw new InvalidArgumentError("a prefix starts and ends with /, like /static/ or /");
  }
  return value;
}

function cidrsArg(value: string): string {
  try {
    AllowList.parse(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return value;
}

/** An option whose help shows `shown` as its default (a size as people write it, say). */
function opt<T>(
  flags: string,
  description: string,
  parse?: (value: string) => T,
  value?: T,
  shown?: string,
): Option {
  const o = new Option(flags, description);
  if (parse !== undefined) o.argParser((v: string) => parse(v));
  // An empty default is not shown (commander would print `(default: "")`); parseCli reads it as "".
  if (value !== undefined && value !== "") o.default(value, shown ?? String(value));
  return o;
}

const EPILOG = `
Environment:
  FERRY_AUTH_USER, FERRY_AUTH_PASS   Basic credentials that allow PUT, POST and DELETE under /uploads/

Examples:
  ferry --port 9000 --no-https                          plain HTTP on port 9000
  ferry --host 0.0.0.0 --cert cert.pem --key key.pem    every interface, your certificate
  ferry --wsgi mysite.wsgi:application --wsgi-chdir ~/mysite --wsgi-python /usr/bin/python3
                                                        a Django project
  ferry --app examples/fetch_app.ts --static-prefix /   files first, the app for the rest

Sizes take K, M or G (powers of 1024); times are seconds. A bad flag or value exits with status 2,
a start that fails (a port in use) with 1.`;

/** Builds the commander program (also used to print --help). */
export function program(): Command {
  const d = DEFAULT_OPTIONS;
  const cmd = new Command("ferry")
    .description("ferry: an HTTPS/HTTP/1.1 server for static files, apps and uploads")
    .version(VERSION, "--version", "print the version and exit")
    .helpOption("-h, --help", "print this help and exit")
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
  const group = (heading: string, options: Option[]) => {
    cmd.optionsGroup(heading);
    for (const o of options) cmd.addOption(o);
  };
  group("Listeners:", [
    opt("--host <addr>", "address to listen on (0.0.0.0: every interface)", hostArg, d.host),
    opt("--port <n>", "HTTP port (0: any free port)", integer(0, 65535), d.port),
    opt("--https-port <n>", "HTTPS port (0: any free port)", integer(0, 65535), d.httpsPort),
    opt("--no-http", "do not open the HTTP listener"),
    opt("--no-https", "do not open the HTTPS listener"),
    opt("--workers <n|auto>", "worker isolates sharing the ports (auto: one per CPU)", workersArg, 1),
    opt(
      "--proxy-protocol",
      "expect a PROXY protocol v1/v2 header on every HTTP connection (HAProxy send-proxy)",
    ),
    opt("--trusted-proxies <cidrs>", "believe Forwarded / X-Forwarded-* only from these addresses", cidrsArg),
    opt(
      "--drain-delay <s>",
      "at shutdown, seconds /_ready answers 503 while serving on",
      seconds,
      d.drainDelay,
    ),
  ]);
  group("TLS:", [
    opt("--cert <file>", "PEM certificate chain for HTTPS (with --key)", undefined, ""),
    opt("--key <file>", "PEM private key for HTTPS (with --cert)", undefined, ""),
    opt("--cert-dir <dir>", "where the self-signed localhost certificate is kept", undefined, "./certs"),
    opt("--redirect-http", "answer every HTTP request with 308 to the HTTPS listener"),
    opt("--hsts <seconds>", "Strict-Transport-Security max-age over HTTPS (0: off)", integer(0), 0),
  ]);
  group("Static files:", [
    opt("--root <dir>", "static file root", undefined, d.root),
    opt(
      "--static-prefix <prefix>",
      "URL prefix of the static files (/: files first, then the app)",
      prefixArg,
      d.staticPrefix,
    ),
    opt("--dotfiles <allow|deny>", "serve dotfiles or answer 404", dotfiles, d.dotfiles),
    opt("--dir-listing", "HTML listings for directories without index.html"),
    opt(
      "--cache-control <value>",
      "Cache-Control for static files (none by default)",
      undefined,
      d.cacheControl,
    ),
    opt(
      "--cache-max-bytes <size>",
      "memory for small static files (0: no cache)",
      bytes(0),
      d.cacheMaxBytes,
      formatSize(d.cacheMaxBytes),
    ),
    opt(
      "--file-cache-valid <s>",
      "seconds a static file's stat is trusted before it is taken again (0: every request)",
      seconds,
      d.fileCacheValid,
    ),
  ]);
  group("Uploads:", [
    opt("--upload-dir <dir>", "directory that /uploads/ writes into", undefined, d.uploadDir),
    opt(
      "--max-upload-bytes <size>",
      "largest upload (413 beyond)",
      bytes(0),
      d.maxUploadBytes,
      formatSize(d.maxUploadBytes),
    ),
  ]);
  group("Apps:", [
    opt(
      "--app <module>",
      "TypeScript app module (default export: WSGI-style app or { fetch }; the built-in app when not given)",
      undefined,
      "",
    ),
    opt(
      "--wsgi <module:callable>",
      "serve a Python WSGI app (Flask, Django...): MODULE:CALLABLE or MODULE:factory()",
    ),
    opt("--wsgi-python <path>", "the Python interpreter for --wsgi", undefined, "python3"),
    opt("--wsgi-chdir <dir>", "working directory of the Python workers, first on sys.path", undefined, "."),
    opt("--wsgi-pythonpath <dirs>", "more directories for sys.path, comma-separated", undefined, ""),
    opt("--wsgi-workers <n>", "Python worker processes (0: CPUs, at least 2)", integer(0, 1024), 0),
    opt("--wsgi-timeout <s>", "seconds a Python request may run before 504 (0: no limit)", seconds, 30),
    opt("--wsgi-max-requests <n>", "recycle a Python worker after N requests (0: never)", integer(0), 0),
    opt("--wsgi-max-requests-jitter <n>", "up to N more requests before recycling, at random", integer(0), 0),
    opt("--wsgi-max-queue <n>", "requests waiting for a Python worker at most (then 503)", integer(0), 100),
    opt("--wsgi-queue-timeout <s>", "seconds a request waits for a Python worker (then 503)", seconds, 10),
    opt("--wsgi-graceful-timeout <s>", "seconds a Python worker gets to exit before SIGKILL", seconds, 30),
    opt(
      "--wsgi-pipeline <n>",
      "requests sent to a busy Python worker at once, while the app is fast (1: one at a time)",
      integer(1, 16),
      8,
    ),
    opt(
      "--wsgi-max-rss <size>",
      "recycle a Python worker whose memory passes SIZE, like 512M (0: no bound)",
      bytes(0),
      0,
    ),
  ]);
  group("Limits and timeouts:", [
    opt(
      "--max-connections <n>",
      "open connections before new ones get 503 (0: no cap)",
      integer(0),
      d.maxConnections,
    ),
    opt(
      "--max-target-length <size>",
      "longest request-target (414 beyond)",
      bytes(1),
      d.maxTargetLength,
      formatSize(d.maxTargetLength),
    ),
    opt(
      "--max-header-bytes <size>",
      "largest request head (431 beyond)",
      bytes(64),
      d.maxHeaderBytes,
      formatSize(d.maxHeaderBytes),
    ),
    opt(
      "--max-header-count <n>",
      "most header fields in a request (431 beyond)",
      integer(1, 10000),
      d.maxHeaderCount,
    ),
    opt(
      "--max-body-bytes <size>",
      "largest request body for the app (413 beyond; 0: none)",
      bytes(0),
      d.maxBodyBytes,
      formatSize(d.maxBodyBytes),
    ),
    opt(
      "--header-timeout <s>",
      "seconds to receive a request head (408 after; 0: no limit)",
      seconds,
      d.headerTimeout,
    ),
    opt(
      "--keepalive-timeout <s>",
      "seconds an idle connection stays open (0: no keep-alive)",
      seconds,
      d.keepaliveTimeout,
    ),
    opt(
      "--body-timeout <s>",
      "seconds without body progress before 408/close (0: no limit)",
      seconds,
      d.bodyTimeout,
    ),
    opt(
      "--min-body-rate <bytes/s>",
      "slowest average a request body may arrive at, after --body-timeout (0: no floor)",
      integer(0),
      d.minBodyRate,
    ),
    opt("--drain-timeout <s>", "seconds a shutdown waits for in-flight requests", seconds, d.drainTimeout),
  ]);
  group("WebSocket (fetch apps calling upgradeWebSocket):", [
    opt(
      "--ws-max-message-bytes <size>",
      "largest WebSocket message, after inflation (close 1009 beyond)",
      bytes(1),
      d.wsMaxMessageBytes,
      formatSize(d.wsMaxMessageBytes),
    ),
    opt(
      "--ws-ping-interval <s>",
      "seconds of peer silence before a ping; as long again without an answer closes (0: never)",
      seconds,
      d.wsPingInterval,
    ),
    opt("--no-ws-deflate", "do not accept permessage-deflate compression"),
  ]);
  group("Logs and metrics:", [
    opt("--log-format <format>", "access log: plain, json, combined or none", logFormat, d.logFormat),
    opt(
      "--log-file <path>",
      "access log file, rotated and gzipped (stdout when not given)",
      undefined,
      d.logFile,
    ),
    opt(
      "--error-log <path>",
      "error log file, rotated and gzipped (stderr when not given)",
      undefined,
      d.errorLog,
    ),
    opt(
      "--log-rotate-size <size>",
      "rotate log files at this size, like 10M (empty: never)",
      sizeText,
      d.logRotateSize,
    ),
    opt(
      "--log-rotate-interval <age>",
      "rotate log files at this age: 30m, 6h, 1d or 1w (empty: never)",
      intervalText,
      d.logRotateInterval,
    ),
    opt("--log-rotate-keep <n>", "rotated log files kept (0: all)", integer(0), d.logRotateKeep),
    opt("--no-metrics", "do not record latency or serve /_metrics"),
    opt(
      "--metrics-allow <cidrs>",
      "who may read /_metrics (comma-separated CIDR blocks)",
      cidrsArg,
      d.metricsAllow,
    ),
  ]);
  return cmd;
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
        throw new CliError("help", 0, cmd.helpInformation() + EPILOG + "\n");
      }
      if (e.code === "commander.version") throw new CliError("version", 0, VERSION + "\n");
      // Whole, so that commander's "(Did you mean --port?)" stays.
      throw new CliError(e.message.replace(/^error: /, "").replace(/\n+/g, " ").trim(), 2);
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
      cacheControl: f.cacheControl ?? "",
      cacheMaxBytes: f.cacheMaxBytes,
      fileCacheValid: f.fileCacheValid,
      app: f.app ?? "",
      maxConnections: f.maxConnections,
      maxTargetLength: f.maxTargetLength,
      maxHeaderBytes: f.maxHeaderBytes,
      maxHeaderCount: f.maxHeaderCount,
      maxBodyBytes: f.maxBodyBytes,
      headerTimeout: f.headerTimeout,
      keepaliveTimeout: f.keepaliveTimeout,
      bodyTimeout: f.bodyTimeout,
      minBodyRate: f.minBodyRate,
      wsMaxMessageBytes: f.wsMaxMessageBytes,
      wsPingInterval: f.wsPingInterval,
      wsDeflate: f.wsDeflate,
      drainTimeout: f.drainTimeout,
      drainDelay: f.drainDelay,
      trustedProxies: f.trustedProxies ?? "",
      proxyProtocol: f.proxyProtocol ?? false,
      logFormat: f.logFormat,
      redirectHttp: f.redirectHttp ?? false,
      metrics: f.metrics,
      workers: f.workers,
      metricsAllow: f.metricsAllow,
      logFile: f.logFile ?? "",
      errorLog: f.errorLog ?? "",
      logRotateSize: f.logRotateSize ?? "",
      logRotateInterval: f.logRotateInterval ?? "",
      logRotateKeep: f.logRotateKeep,
      hsts: f.hsts,
    },
    tls: { cert: f.cert ?? "", key: f.key ?? "", certDir: f.certDir },
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
    pythonpath: String(f.wsgiPythonpath ?? "").split(/[,:]/).filter((p) => p !== ""),
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
