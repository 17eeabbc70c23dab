/**
 * The server's options as a documented type: one field each, with what it does, what 0 or empty
 * means and its `@default`. Each field has its entry (flag, rule, default, help) in
 * `SERVER_OPTIONS` (`src/options.ts`); a test checks that each `@default` here is the entry's.
 *
 * @module
 */

import type { StaticMount } from "./static_mount.ts";
import type { ProxyRoute } from "./upstream/proxy_flag.ts";

/** Access log formats. */
export type LogFormat = "plain" | "json" | "combined" | "none";

/**
 * Options of a ferry server. Every field is optional; {@linkcode DEFAULT_OPTIONS} fills gaps. Each
 * field has its entry in {@linkcode SERVER_OPTIONS} (flag, rule, default, help).
 */
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
   * Static file root, served under `/static/`; empty: none (the prefix goes to the app, or to a
   * `staticMounts` entry). The CLI leaves it empty when a user app is given without `--root`.
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
   * More static roots at URL prefixes of their own (`--static PREFIX=DIR`, repeatable), matched
   * before the `root` mount (one at `staticPrefix` takes it over).
   * @default {[]}
   */
  staticMounts?: StaticMount[];
  /**
   * Reverse-proxy routes (`--proxy PREFIX=TARGET[,TARGET][;key=value…]`, repeatable): requests
   * under each prefix go to its pool of upstream targets, matched before the static mounts.
   * @default {[]}
   */
  proxyRoutes?: ProxyRoute[];
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
   * Accept upload credentials sent over plain HTTP from clients that are not on this machine
   * (`--insecure-uploads`); otherwise such requests get 403 pointing to HTTPS. Loopback clients
   * and HTTPS (the socket's, or a trusted proxy's word) are never refused.
   * @default {false}
   */
  insecureUploads?: boolean;
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
   * Offer HTTP/2 on the HTTPS listener (ALPN `h2`, preferred over `http/1.1`); `--no-http2`
   * turns it off.
   * @default {true}
   */
  http2?: boolean;
  /**
   * Also accept HTTP/2 with prior knowledge (the connection preface) on the plain-HTTP listener,
   * for a proxy that speaks h2c; HTTP/1.1 keeps working there.
   * @default {false}
   */
  h2c?: boolean;
  /**
   * SETTINGS_MAX_CONCURRENT_STREAMS: streams one HTTP/2 connection may have open; one more is
   * refused with RST_STREAM REFUSED_STREAM.
   * @default {128}
   */
  h2MaxStreams?: number;
  /**
   * Also serve HTTP/3 (RFC 9114) over QUIC: UDP on the HTTPS port's number and `host`, with the
   * HTTPS listener's default certificate; every HTTPS response then carries
   * `Alt-Svc: h3=":PORT"; ma=86400`. Needs Deno's `--unstable-net` (the start task grants it).
   * @default {false}
   */
  http3?: boolean;
  /**
   * Request streams one HTTP/3 connection may have open at once (QUIC's MAX_STREAMS: the client
   * waits for one to end before it opens another).
   * @default {100}
   */
  h3MaxStreams?: number;
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
