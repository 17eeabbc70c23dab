/**
 * Every tunable of the server in one place: listeners, paths, limits and timeouts. Each field
 * says its default and what 0 means. The CLI (`main.ts`) maps flags onto these fields one to
 * one; embedders pass them to {@linkcode resolveOptions} or `serve()`.
 *
 * @module
 */

import { parseInterval, parseSize } from "./units.ts";

/** Access log formats. */
export type LogFormat = "plain" | "json" | "combined" | "none";

/** Options of a ferry server. Every field is optional; {@linkcode DEFAULT_OPTIONS} fills gaps. */
export interface ServerOptions {
  /**
   * Address to listen on.
   * @default {"127.0.0.1"}
   */
  host?: string;
  /**
   * Plain-HTTP port; 0 picks any free port.
   * @default {8080}
   */
  port?: number;
  /**
   * Whether to open the plain-HTTP listener (`--no-http` turns it off).
   * @default {true}
   */
  http?: boolean;
  /**
   * HTTPS port; 0 picks any free port.
   * @default {8443}
   */
  httpsPort?: number;
  /**
   * Whether to open the HTTPS listener (`--no-https` turns it off).
   * @default {true}
   */
  https?: boolean;
  /**
   * Static file root, served under `/static/`.
   * @default {"./static"}
   */
  root?: string;
  /**
   * URL prefix of the static files. With `/`, a path that is not a file goes on to the app
   * (like nginx's try_files).
   * @default {"/static/"}
   */
  staticPrefix?: string;
  /**
   * Serve dotfiles (`allow`) or answer 404 for them (`deny`).
   * @default {"deny"}
   */
  dotfiles?: "allow" | "deny";
  /**
   * HTML listings for directories without an index.html.
   * @default {false}
   */
  dirListing?: boolean;
  /**
   * Cache-Control for static file responses; empty: none.
   * @default {""}
   */
  cacheControl?: string;
  /**
   * Memory for small static files and their compressed forms. 0: no cache.
   * @default {67108864} (64 MiB)
   */
  cacheMaxBytes?: number;
  /**
   * Seconds a static file's `stat` is trusted before it is taken again (nginx's
   * `open_file_cache_valid`): a file changed on disk is served as it was for at most this long.
   * 0: stat on every request.
   * @default {1}
   */
  fileCacheValid?: number;
  /**
   * Directory that `/uploads/` writes into.
   * @default {"./uploads"}
   */
  uploadDir?: string;
  /**
   * Largest upload, in bytes (uploads use this limit, not `maxBodyBytes`): a declared length
   * beyond it gets 413 before any byte is written.
   * @default {1073741824} (1 GiB)
   */
  maxUploadBytes?: number;
  /**
   * Basic-auth user for uploads (the CLI reads FERRY_AUTH_USER). Empty: writes are refused.
   * @default {""}
   */
  authUser?: string;
  /**
   * Basic-auth password for uploads (the CLI reads FERRY_AUTH_PASS). Empty: writes are refused.
   * @default {""}
   */
  authPass?: string;
  /**
   * Module path of the app (default export: a WSGI-style app or a `{ fetch }` object); empty for
   * the built-in example app.
   * @default {""}
   */
  app?: string;
  /**
   * Most open connections; one more is answered 503 with Retry-After and closed. 0: no cap.
   * @default {10000}
   */
  maxConnections?: number;
  /**
   * Longest request-target in bytes (414 beyond).
   * @default {8192}
   */
  maxTargetLength?: number;
  /**
   * Largest request head in bytes: request line, fields, empty line (431 beyond).
   * @default {16384}
   */
  maxHeaderBytes?: number;
  /**
   * Most header field lines in a request (431 beyond).
   * @default {100}
   */
  maxHeaderCount?: number;
  /**
   * Largest request body for the app and static mounts, in bytes (413 beyond, answered from the
   * declared length before any byte is read). 0: no request may carry a body.
   * @default {104857600} (100 MiB)
   */
  maxBodyBytes?: number;
  /**
   * Most bytes of an unread request body drained so the connection can be reused; a longer one
   * closes the connection instead. 0: never drain.
   * @default {262144} (256 KiB)
   */
  maxDrainBytes?: number;
  /**
   * Seconds to receive a whole request head, from its first byte (or from accept, for the first
   * request). An incomplete head then gets 408 and a close. 0: no limit.
   * @default {10}
   */
  headerTimeout?: number;
  /**
   * Seconds an idle keep-alive connection is kept open. 0: no keep-alive (close after each response).
   * @default {5}
   */
  keepaliveTimeout?: number;
  /**
   * Seconds without progress while reading a request body (or writing a response) before the
   * connection is closed (408 when no response has started). 0: no limit.
   * @default {30}
   */
  bodyTimeout?: number;
  /**
   * Slowest average a request body may arrive at, in bytes per second, after a grace of
   * `bodyTimeout` seconds from its first read (Apache mod_reqtimeout's `MinRate`): a body that
   * advances one byte every few seconds is timed out (408) instead of holding its connection for
   * ever. 0: no floor, only `bodyTimeout` between reads.
   * @default {500}
   */
  minBodyRate?: number;
  /**
   * Largest WebSocket message, in bytes (after permessage-deflate inflation): a larger one
   * closes its connection with 1009.
   * @default {1048576}
   */
  wsMaxMessageBytes?: number;
  /**
   * Seconds of silence from a WebSocket peer before ferry pings it; a peer that then stays
   * silent as long again is taken for dead and its connection closed. An app's
   * `upgradeWebSocket(request, { idleTimeout })` overrides it for its sockets. 0: no pings.
   * @default {30}
   */
  wsPingInterval?: number;
  /**
   * Offer-accepting permessage-deflate (RFC 7692) for WebSockets: messages of 1 KiB and more are
   * compressed, each on its own (no context takeover).
   * @default {true}
   */
  wsDeflate?: boolean;
  /**
   * Seconds that a graceful shutdown waits for in-flight requests before closing what is left.
   * 0: close at once.
   * @default {10}
   */
  drainTimeout?: number;
  /**
   * Seconds between going unready (`/_ready` answers 503) and closing the listeners at a graceful
   * shutdown, while everything is still served, so a load balancer takes the instance out before
   * it stops accepting (Caddy's `shutdown_delay`). 0: close at once.
   * @default {0}
   */
  drainDelay?: number;
  /**
   * Proxies whose `Forwarded` / `X-Forwarded-For`, `-Proto` and `-Host` headers are believed
   * (comma-separated CIDR blocks); from anyone else these headers pass to the app untouched and
   * are never believed. Empty: none.
   * @default {""}
   */
  trustedProxies?: string;
  /**
   * Expect a PROXY protocol header (v1 or v2, HAProxy's `send-proxy`) before every connection on
   * the HTTP listener; a connection without a valid one is closed. Not possible on the HTTPS
   * listener: Deno's TLS listener starts the handshake before ferry sees a byte.
   * @default {false}
   */
  proxyProtocol?: boolean;
  /**
   * Answer every request on the HTTP listener with `308 Permanent Redirect` to the same target on
   * the HTTPS listener.
   * @default {false}
   */
  redirectHttp?: boolean;
  /**
   * `Strict-Transport-Security: max-age=N` on HTTPS responses, in seconds. 0: not sent.
   * @default {0}
   */
  hsts?: number;
  /**
   * Record per-mount latency and serve `/_metrics` (`--no-metrics` turns both off; the plain
   * counters cost next to nothing and stay).
   * @default {true}
   */
  metrics?: boolean;
  /**
   * Who may read `/_metrics`: comma-separated CIDR blocks. Others get 403.
   * @default {"127.0.0.0/8,::1/128"} (loopback only)
   */
  metricsAllow?: string;
  /**
   * Access log file; empty: standard output.
   * @default {""}
   */
  logFile?: string;
  /**
   * Error log file; empty: standard error.
   * @default {""}
   */
  errorLog?: string;
  /**
   * Rotate log files at this size (`10M`); empty: not by size.
   * @default {"10M"}
   */
  logRotateSize?: string;
  /**
   * Rotate log files at this age (`1d`, `6h`); empty: not by age.
   * @default {"1d"}
   */
  logRotateInterval?: string;
  /**
   * Rotated (gzipped) log files kept. 0: all.
   * @default {30}
   */
  logRotateKeep?: number;
  /**
   * Worker isolates sharing the listening ports (`reusePort`, Linux; needs `--unstable-net`).
   * 0: one per CPU (`--workers auto`).
   * @default {1}
   */
  workers?: number;
  /**
   * Open the listeners with SO_REUSEPORT (set for each worker by `--workers`).
   * @default {false}
   */
  reusePort?: boolean;
  /**
   * Access log format.
   * @default {"plain"}
   */
  logFormat?: LogFormat;
}

/** {@linkcode ServerOptions} with every field present. */
export type ResolvedOptions = Required<ServerOptions>;

/** The defaults of every option. */
export const DEFAULT_OPTIONS: Readonly<ResolvedOptions> = Object.freeze({
  host: "127.0.0.1",
  port: 8080,
  http: true,
  httpsPort: 8443,
  https: true,
  root: "./static",
  staticPrefix: "/static/",
  dotfiles: "deny" as "allow" | "deny",
  dirListing: false,
  cacheControl: "",
  cacheMaxBytes: 64 * 1024 * 1024,
  fileCacheValid: 1,
  uploadDir: "./uploads",
  maxUploadBytes: 1024 * 1024 * 1024,
  authUser: "",
  authPass: "",
  app: "",
  maxConnections: 10000,
  maxTargetLength: 8192,
  maxHeaderBytes: 16384,
  maxHeaderCount: 100,
  maxBodyBytes: 100 * 1024 * 1024,
  maxDrainBytes: 256 * 1024,
  headerTimeout: 10,
  keepaliveTimeout: 5,
  bodyTimeout: 30,
  minBodyRate: 500,
  wsMaxMessageBytes: 1024 * 1024,
  wsPingInterval: 30,
  wsDeflate: true,
  drainTimeout: 10,
  drainDelay: 0,
  trustedProxies: "",
  proxyProtocol: false,
  redirectHttp: false,
  workers: 1,
  reusePort: false,
  metrics: true,
  metricsAllow: "127.0.0.0/8,::1/128",
  logFile: "",
  errorLog: "",
  logRotateSize: "10M",
  logRotateInterval: "1d",
  logRotateKeep: 30,
  hsts: 0,
  logFormat: "plain" as LogFormat,
});

/** Options objects made by {@linkcode resolveOptions} (never changed after). */
const RESOLVED = new WeakSet<object>();

const LOG_FORMATS: ReadonlySet<string> = new Set(["plain", "json", "combined", "none"]);

/**
 * Fills defaults in and checks every value; throws `RangeError` or `TypeError` naming the
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
  const int = (name: keyof ResolvedOptions, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const v = o[name];
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      throw new RangeError(`${name} must be a whole number from ${min} to ${max}, got ${String(v)}`);
    }
  };
  const seconds = (name: keyof ResolvedOptions) => {
    const v = o[name];
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      throw new RangeError(`${name} must be a number of seconds >= 0, got ${String(v)}`);
    }
  };
  int("port", 0, 65535);
  int("httpsPort", 0, 65535);
  int("maxConnections", 0);
  int("maxTargetLength", 1);
  int("maxHeaderBytes", 64);
  int("maxHeaderCount", 1, 10000);
  int("maxBodyBytes", 0);
  int("maxDrainBytes", 0);
  int("minBodyRate", 0);
  int("wsMaxMessageBytes", 1);
  seconds("wsPingInterval");
  int("maxUploadBytes", 0);
  int("hsts", 0);
  int("workers", 0, 256);
  int("cacheMaxBytes", 0);
  int("logRotateKeep", 0);
  if (o.logRotateSize !== "") parseSize(o.logRotateSize);
  if (o.logRotateInterval !== "") parseInterval(o.logRotateInterval);
  if (!o.staticPrefix.startsWith("/") || !o.staticPrefix.endsWith("/")) {
    throw new RangeError(`staticPrefix must start and end with /, got ${o.staticPrefix}`);
  }
  if (o.dotfiles !== "allow" && o.dotfiles !== "deny") throw new RangeError("dotfiles must be allow or deny");
  if (/[\r\n]/.test(o.cacheControl)) throw new RangeError("cacheControl may not contain line breaks");
  seconds("headerTimeout");
  seconds("keepaliveTimeout");
  seconds("bodyTimeout");
  seconds("drainTimeout");
  seconds("drainDelay");
  seconds("fileCacheValid");
  if (typeof o.host !== "string" || o.host === "") throw new TypeError("host must be a non-empty string");
  if (!LOG_FORMATS.has(o.logFormat)) {
    throw new RangeError(`logFormat must be plain, json, combined or none, got ${String(o.logFormat)}`);
  }
  RESOLVED.add(Object.freeze(o));
  return o;
}
