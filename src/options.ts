/**
 * Every tunable of the server, declared once in {@linkcode SERVER_OPTIONS}: for each option its
 * flag, its rule (how the flag's text is read and how a value is checked), its default and its
 * help line. The types ({@linkcode ServerOptions}, documented field by field in `server_options.ts`,
 * and {@linkcode ResolvedOptions}) are checked against it by the compiler; the defaults
 * ({@linkcode DEFAULT_OPTIONS}), the checks of {@linkcode resolveOptions} and the command line
 * with its `--help` (`src/cli.ts`) all come from that table. Embedders pass options to
 * {@linkcode resolveOptions} or `serve()`.
 *
 * @module
 */

import {
  bool,
  checkValues,
  cidrs,
  countOrAuto,
  defaultsOf,
  fieldValue,
  host,
  int,
  intervalText,
  oneOf,
  option,
  type OptionTableOf,
  prefix,
  seconds,
  size,
  sizeText,
  text,
} from "./option_spec.ts";
import { staticMountsRule } from "./static_mount.ts";
import { proxyRoutesRule } from "./upstream/proxy_flag.ts";
import type { ResolvedOptions, ServerOptions } from "./server_options.ts";

export type { LogFormat, ResolvedOptions, ServerOptions } from "./server_options.ts";

/**
 * The server's options, one entry each. **To add an option**: a field in {@linkcode ServerOptions}
 * (what it does, what 0 or empty means, its `@default`; the compiler then asks for its entry
 * here, and a test checks the `@default` against the entry), and its entry here: `flag` (the name without dashes; `undefined` keeps it off the command line;
 * a switch that defaults to `true` is given as `--no-NAME`), `rule` (from `src/option_spec.ts`:
 * `int(min, max)`, `size(min)`, `seconds`, `bool`, `oneOf([...])`, `text("<arg>")`, …),
 * `default`, the `--help` `group` and a one-line `help`. The type, the default, the check, the
 * flag and its help follow from it; then add its row to the README's flags table (a test checks
 * that every flag is there).
 */
export const SERVER_OPTIONS: OptionTableOf<ResolvedOptions> = {
  host: option({
    flag: "host",
    rule: host,
    default: "127.0.0.1",
    group: "Listeners:",
    help: "address to listen on (0.0.0.0: every interface)",
  }),
  port: option({
    flag: "port",
    rule: int(0, 65535),
    default: 8080,
    group: "Listeners:",
    help: "HTTP port (0: any free port)",
  }),
  httpsPort: option({
    flag: "https-port",
    rule: int(0, 65535),
    default: 8443,
    group: "Listeners:",
    help: "HTTPS port (0: any free port)",
  }),
  http: option({
    flag: "http",
    rule: bool,
    default: true,
    group: "Listeners:",
    help: "do not open the HTTP listener",
  }),
  https: option({
    flag: "https",
    rule: bool,
    default: true,
    group: "Listeners:",
    help: "do not open the HTTPS listener",
  }),
  workers: option({
    flag: "workers",
    rule: countOrAuto(256),
    default: 1,
    group: "Listeners:",
    help: "worker isolates sharing the ports (auto: one per CPU)",
  }),
  reusePort: option({
    flag: undefined,
    rule: bool,
    default: false,
    group: "Listeners:",
    help: "open the listeners with SO_REUSEPORT (set by --workers)",
  }),
  proxyProtocol: option({
    flag: "proxy-protocol",
    rule: bool,
    default: false,
    group: "Listeners:",
    help: "expect a PROXY protocol v1/v2 header on every HTTP connection (HAProxy send-proxy)",
  }),
  trustedProxies: option({
    flag: "trusted-proxies",
    rule: cidrs,
    default: "",
    group: "Listeners:",
    help: "believe Forwarded / X-Forwarded-* only from these addresses",
  }),
  drainDelay: option({
    flag: "drain-delay",
    rule: seconds,
    default: 0,
    group: "Listeners:",
    help: "at shutdown, seconds /_ready answers 503 while serving on",
  }),
  redirectHttp: option({
    flag: "redirect-http",
    rule: bool,
    default: false,
    group: "TLS:",
    help: "answer every HTTP request with 308 to the HTTPS listener",
  }),
  http2: option({
    flag: "http2",
    rule: bool,
    default: true,
    group: "TLS:",
    help: "do not offer HTTP/2 on the HTTPS listener (ALPN h2)",
  }),
  h2c: option({
    flag: "h2c",
    rule: bool,
    default: false,
    group: "Listeners:",
    help: "also accept HTTP/2 with prior knowledge on the HTTP listener (h2c)",
  }),
  h2MaxStreams: option({
    flag: "h2-max-streams",
    rule: int(1, 10000),
    default: 128,
    group: "Limits and timeouts:",
    help: "HTTP/2 streams open at once per connection (REFUSED_STREAM beyond)",
  }),
  http3: option({
    flag: "http3",
    rule: bool,
    default: false,
    group: "TLS:",
    help: "also serve HTTP/3 over QUIC (UDP, the HTTPS port's number; needs --unstable-net)",
  }),
  h3MaxStreams: option({
    flag: "h3-max-streams",
    rule: int(1, 10000),
    default: 100,
    group: "Limits and timeouts:",
    help: "HTTP/3 request streams open at once per connection (QUIC MAX_STREAMS)",
  }),
  hsts: option({
    flag: "hsts",
    rule: int(0),
    default: 0,
    group: "TLS:",
    help: "Strict-Transport-Security max-age over HTTPS (0: off)",
    arg: "<seconds>",
  }),
  root: option({
    flag: "root",
    rule: text("<dir>"),
    default: "./static",
    group: "Static files:",
    help: "static file root",
  }),
  staticPrefix: option({
    flag: "static-prefix",
    rule: prefix,
    default: "/static/",
    group: "Static files:",
    help: "URL prefix of the static files (/: files first, then the app)",
  }),
  staticMounts: option({
    flag: "static",
    rule: staticMountsRule,
    default: [],
    group: "Static files:",
    help:
      "one more static root at a URL prefix, before --root's (repeatable): --static /static/=./staticroot",
  }),
  proxyRoutes: option({
    flag: "proxy",
    rule: proxyRoutesRule,
    default: [],
    group: "Reverse proxy:",
    help:
      "send a URL prefix to upstream targets (repeatable): --proxy /api/=127.0.0.1:9001,unix//run/app.sock",
  }),
  dotfiles: option({
    flag: "dotfiles",
    rule: oneOf(["allow", "deny"]),
    default: "deny",
    group: "Static files:",
    help: "serve dotfiles or answer 404",
  }),
  dirListing: option({
    flag: "dir-listing",
    rule: bool,
    default: false,
    group: "Static files:",
    help: "HTML listings for directories without index.html",
  }),
  cacheControl: option({
    flag: "cache-control",
    rule: fieldValue,
    default: "",
    group: "Static files:",
    help: "Cache-Control for static files (none by default)",
  }),
  cacheMaxBytes: option({
    flag: "cache-max-bytes",
    rule: size(0),
    default: 64 * 1024 * 1024,
    group: "Static files:",
    help: "memory for small static files (0: no cache)",
  }),
  fileCacheValid: option({
    flag: "file-cache-valid",
    rule: seconds,
    default: 1,
    group: "Static files:",
    help: "seconds a static file's stat is trusted before it is taken again (0: every request)",
  }),
  uploadDir: option({
    flag: "upload-dir",
    rule: text("<dir>"),
    default: "./uploads",
    group: "Uploads:",
    help: "directory that /uploads/ writes into",
  }),
  maxUploadBytes: option({
    flag: "max-upload-bytes",
    rule: size(0),
    default: 1024 * 1024 * 1024,
    group: "Uploads:",
    help: "largest upload (413 beyond)",
  }),
  insecureUploads: option({
    flag: "insecure-uploads",
    rule: bool,
    default: false,
    group: "Uploads:",
    help: "accept upload credentials over plain HTTP from other machines (otherwise 403: use HTTPS)",
  }),
  authUser: option({
    flag: undefined,
    rule: text("<user>"),
    default: "",
    group: "Uploads:",
    help: "Basic-auth user for uploads (FERRY_AUTH_USER)",
  }),
  authPass: option({
    flag: undefined,
    rule: text("<password>"),
    default: "",
    group: "Uploads:",
    help: "Basic-auth password for uploads (FERRY_AUTH_PASS)",
  }),
  app: option({
    flag: "app",
    rule: text("<module>"),
    default: "",
    group: "Apps:",
    help:
      "TypeScript app module (default export: WSGI-style app or { fetch }; the built-in app when not given)",
  }),
  maxConnections: option({
    flag: "max-connections",
    rule: int(0),
    default: 10000,
    group: "Limits and timeouts:",
    help: "open connections before new ones get 503 (0: no cap)",
  }),
  maxTargetLength: option({
    flag: "max-target-length",
    rule: size(1),
    default: 8192,
    group: "Limits and timeouts:",
    help: "longest request-target (414 beyond)",
  }),
  maxHeaderBytes: option({
    flag: "max-header-bytes",
    rule: size(64),
    default: 16384,
    group: "Limits and timeouts:",
    help: "largest request head (431 beyond)",
  }),
  maxHeaderCount: option({
    flag: "max-header-count",
    rule: int(1, 10000),
    default: 100,
    group: "Limits and timeouts:",
    help: "most header fields in a request (431 beyond)",
  }),
  maxBodyBytes: option({
    flag: "max-body-bytes",
    rule: size(0),
    default: 100 * 1024 * 1024,
    group: "Limits and timeouts:",
    help: "largest request body for the app (413 beyond; 0: none)",
  }),
  maxDrainBytes: option({
    flag: undefined,
    rule: size(0),
    default: 256 * 1024,
    group: "Limits and timeouts:",
    help: "most bytes of an unread body drained to reuse the connection",
  }),
  headerTimeout: option({
    flag: "header-timeout",
    rule: seconds,
    default: 10,
    group: "Limits and timeouts:",
    help: "seconds to receive a request head (408 after; 0: no limit)",
  }),
  keepaliveTimeout: option({
    flag: "keepalive-timeout",
    rule: seconds,
    default: 5,
    group: "Limits and timeouts:",
    help: "seconds an idle connection stays open (0: no keep-alive)",
  }),
  bodyTimeout: option({
    flag: "body-timeout",
    rule: seconds,
    default: 30,
    group: "Limits and timeouts:",
    help: "seconds without body progress before 408/close (0: no limit)",
  }),
  minBodyRate: option({
    flag: "min-body-rate",
    rule: int(0),
    default: 500,
    group: "Limits and timeouts:",
    help: "slowest average a request body may arrive at, after --body-timeout (0: no floor)",
    arg: "<bytes/s>",
  }),
  drainTimeout: option({
    flag: "drain-timeout",
    rule: seconds,
    default: 10,
    group: "Limits and timeouts:",
    help: "seconds a shutdown waits for in-flight requests",
  }),
  wsMaxMessageBytes: option({
    flag: "ws-max-message-bytes",
    rule: size(1),
    default: 1024 * 1024,
    group: "WebSocket (fetch apps calling upgradeWebSocket):",
    help: "largest WebSocket message, after inflation (close 1009 beyond)",
  }),
  wsPingInterval: option({
    flag: "ws-ping-interval",
    rule: seconds,
    default: 30,
    group: "WebSocket (fetch apps calling upgradeWebSocket):",
    help: "seconds of peer silence before a ping; as long again without an answer closes (0: never)",
  }),
  wsDeflate: option({
    flag: "ws-deflate",
    rule: bool,
    default: true,
    group: "WebSocket (fetch apps calling upgradeWebSocket):",
    help: "do not accept permessage-deflate compression",
  }),
  logFormat: option({
    flag: "log-format",
    rule: oneOf(["plain", "json", "combined", "none"]),
    default: "plain",
    group: "Logs and metrics:",
    help: "access log: plain, json, combined or none",
    arg: "<format>",
  }),
  logFile: option({
    flag: "log-file",
    rule: text("<path>"),
    default: "",
    group: "Logs and metrics:",
    help: "access log file, rotated and gzipped (stdout when not given)",
  }),
  errorLog: option({
    flag: "error-log",
    rule: text("<path>"),
    default: "",
    group: "Logs and metrics:",
    help: "error log file, rotated and gzipped (stderr when not given)",
  }),
  logRotateSize: option({
    flag: "log-rotate-size",
    rule: sizeText,
    default: "10M",
    group: "Logs and metrics:",
    help: "rotate log files at this size, like 10M (empty: never)",
  }),
  logRotateInterval: option({
    flag: "log-rotate-interval",
    rule: intervalText,
    default: "1d",
    group: "Logs and metrics:",
    help: "rotate log files at this age: 30m, 6h, 1d or 1w (empty: never)",
  }),
  logRotateKeep: option({
    flag: "log-rotate-keep",
    rule: int(0),
    default: 30,
    group: "Logs and metrics:",
    help: "rotated log files kept (0: all)",
  }),
  metrics: option({
    flag: "metrics",
    rule: bool,
    default: true,
    group: "Logs and metrics:",
    help: "do not record latency or serve /_metrics",
  }),
  metricsAllow: option({
    flag: "metrics-allow",
    rule: cidrs,
    default: "127.0.0.0/8,::1/128",
    group: "Logs and metrics:",
    help: "who may read /_metrics (comma-separated CIDR blocks)",
  }),
};

/** The defaults of every option. */
export const DEFAULT_OPTIONS: Readonly<ResolvedOptions> = Object.freeze(
  defaultsOf(SERVER_OPTIONS) as ResolvedOptions,
);

/** Options objects made by {@linkcode resolveOptions} (never changed after). */
const RESOLVED = new WeakSet<object>();

/**
 * Fills defaults in and checks every value against its rule; throws `RangeError` naming the
 * offending option. Options it has resolved already come back as they are, so every layer may
 * ask without the work being done twice.
 *
 * @example
 * ```ts
 * import { resolveOptions } from "./options.ts";
 * const o = resolveOptions({ port: 0 });
 * console.log(o.port, o.headerTimeout); // 0 10
 * ```
 */
export function resolveOptions(options: ServerOptions = {}): ResolvedOptions {
  if (RESOLVED.has(options)) return options as ResolvedOptions;
  const o = { ...DEFAULT_OPTIONS } as ResolvedOptions;
  for (const [k, v] of Object.entries(options)) {
    if (v !== undefined) (o as Record<string, unknown>)[k] = v;
  }
  checkValues(SERVER_OPTIONS, o);
  RESOLVED.add(Object.freeze(o));
  return o;
}
