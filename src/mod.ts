/**
 * ferry's public API for embedding: start a server with {@linkcode serve}, or build one from
 * parts with {@linkcode Server}.
 *
 * @example
 * ```ts ignore
 * import { serve } from "./mod.ts";
 * const server = await serve({ port: 0, https: false });
 * console.log(server.urls);
 * await server.shutdown();
 * ```
 *
 * @module
 */

import type { Handler, Mount } from "./http/dispatch.ts";
import type { ResolvedOptions, ServerOptions } from "./options.ts";
import { Server, type ServerParts } from "./server.ts";
import { Logger, type LogSink } from "./log/logger.ts";
import { exampleApp } from "./app/example_app.ts";
import { wsgiHandler } from "./app/wsgi.ts";
import { loadApp } from "./app/load.ts";
import { resolveOptions } from "./options.ts";
import { staticHandler } from "./static/serve_static.ts";
import { uploadHandler } from "./upload/uploads.ts";
import { Stats } from "./stats.ts";
import { metricsMounts } from "./metrics/mounts.ts";
import { fileSink } from "./log/files.ts";
import { TEXT_PLAIN } from "./http/error_page.ts";
import { proxyMounts } from "./upstream/upstreams.ts";

export { Dispatcher, type Handler, type Mount, type Router } from "./http/dispatch.ts";
export {
  DEFAULT_OPTIONS,
  type LogFormat,
  type ResolvedOptions,
  resolveOptions,
  SERVER_OPTIONS,
  type ServerOptions,
} from "./options.ts";
export { type OptionSpec, type OptionTable, type OptionTableOf, type Rule } from "./option_spec.ts";
export { parseStaticMount, type StaticMount } from "./static_mount.ts";
export { Server, type ServerParts, type TlsMaterial } from "./server.ts";
export type { ServedConnection } from "./http/connection_context.ts";
export { ServerRequest } from "./http/request.ts";
export {
  type Capabilities,
  PreparedHeaders,
  type ResponseHeaders,
  type ResponseWriter,
  type SendTrailers,
  type SwitchProtocols,
} from "./http/writer.ts";
export { HeaderList } from "./http/headers.ts";
export { Body, EmptyBody } from "./http/body.ts";
export { ParseError, type ParseErrorCode } from "./http1/parser.ts";
export { Refusal } from "./http/refusal.ts";
export { STATUS, STATUS_TEXT } from "./http/status.ts";
export { Stats } from "./stats.ts";
export { Logger, type LogSink } from "./log/logger.ts";
export { type LogBatch, LogOwner, type LogStream, type LogWritten, RelaySink } from "./log/relay.ts";
export {
  type App,
  type Body as WsgiBody,
  type Environ,
  type StartResponse,
  type Write,
  wsgiHandler,
} from "./app/wsgi.ts";
export { type FetchApp, fetchHandler, type FetchInfo } from "./app/fetch.ts";
export { appFromExport, loadApp } from "./app/load.ts";
export {
  installDenoUpgrade,
  upgradeWebSocket,
  type UpgradeWebSocketOptions,
  type WebSocketUpgrade,
} from "./ws/upgrade.ts";
export { FerryWebSocket } from "./ws/socket.ts";
export { HandshakeRefusal } from "./ws/handshake.ts";
export { type Tunnel } from "./http/tunnel.ts";
export { exampleApp } from "./app/example_app.ts";
export { serveFile, staticHandler, type StaticOptions } from "./static/serve_static.ts";
export { uploadHandler, type UploadOptions } from "./upload/uploads.ts";
export { pythonHandler, type PythonHandlerOptions } from "./app/python/gateway.ts";
export { PoolBusy, PythonPool, type RestartCause, workerCapacity } from "./app/python/pool.ts";
export { PoolCounters } from "./app/python/pool_counters.ts";
export { asgiHandler } from "./app/python/asgi_gateway.ts";
export {
  type ResolvedWsgiOptions,
  resolveWsgiOptions,
  WSGI_OPTIONS,
  type WsgiGatewayOptions,
} from "./app/python/wsgi_options.ts";
export {
  AsgiStartupError,
  PythonWorker,
  type PythonWorkerSpec,
  WorkerGone,
  WsgiImportError,
} from "./app/python/python_worker.ts";
export { type Frame } from "./app/python/frames.ts";
export { type ForwardedClient, forwardedClient } from "./proxy/forwarded.ts";
export { parseProxyHeader, type ProxyHeader, ProxyHeaderError } from "./proxy/proxy_protocol.ts";
export { metricsHandler, metricsJson, metricsPrometheus } from "./metrics/metrics.ts";
export {
  dashboardHandler,
  type DashboardOptions,
  type DashboardSample,
  dashboardSample,
} from "./metrics/dashboard.ts";
export { AllowList } from "./net/cidr.ts";
export { closeUpstreams, createUpstreams, proxyMounts, type UpstreamDeps } from "./upstream/upstreams.ts";
export { proxyHandler, type ProxyHandlerOptions, type UpstreamNote } from "./upstream/proxy_handler.ts";
export { ConnectError, OPEN_POOLS, Pool, Target } from "./upstream/pool.ts";
export { type UpstreamStatus, upstreamStatus } from "./upstream/status.ts";
export { MAX_RESPONSE_HEAD, UpstreamConn } from "./upstream/upstream_conn.ts";
export {
  parseResponseHead,
  type ResponseFraming,
  responseFraming,
  type ResponseHead,
  UpstreamProtocolError,
} from "./upstream/response_head.ts";
export {
  type HealthConfig,
  POLICIES,
  type Policy,
  resolveUpstream,
  type UpstreamConfig,
  type UpstreamProblem,
  type UpstreamSettings,
} from "./upstream/upstream_config.ts";
export { parseProxyRoute, type ProxyRoute } from "./upstream/proxy_flag.ts";
export { parseTarget, type TargetAddress, targetName } from "./upstream/target.ts";

/** A handler that answers 404: the place of a module that is switched off. */
export const notFound: Handler = async function notFound(_req, res) {
  await res.send(404, [TEXT_PLAIN], "Not Found\n");
};

/**
 * The default mount table for `options`: `/_metrics`, `/uploads/`, the static files, in that
 * order (the app takes every other path; with the static prefix `/`, what is not a file).
 */
export function defaultMounts(
  o: ResolvedOptions,
  app: Handler,
  log: Logger,
  stats: Stats,
  metricsSource: () => Stats[] | Promise<Stats[]> = () => [stats],
): Mount[] {
  const prefix = o.staticPrefix;
  const files = staticHandler({
    root: o.root,
    prefix,
    dotfiles: o.dotfiles === "allow",
    dirListing: o.dirListing,
    cacheControl: o.cacheControl,
    cacheMaxBytes: o.cacheMaxBytes,
    statValid: o.fileCacheValid,
    fallback: prefix === "/" ? app : undefined,
    log,
  });
  return [
    ...metricsMounts(o, stats, metricsSource),
    {
      name: "uploads",
      prefix: "/uploads/",
      handler: uploadHandler({
        dir: o.uploadDir,
        user: o.authUser,
        pass: o.authPass,
        insecure: o.insecureUploads,
        stats,
        log,
      }),
      maxBodyBytes: o.maxUploadBytes,
    },
    // --proxy PREFIX=TARGETS: before the static mounts.
    ...proxyMounts(o.proxyRoutes, { stats, log, trusted: o.trustedProxies }),
    // --static PREFIX=DIR: before --root's mount, so one at the same prefix takes it over.
    ...o.staticMounts.map((m): Mount => ({
      name: "static",
      prefix: m.prefix,
      handler: staticHandler({
        root: m.dir,
        prefix: m.prefix,
        dotfiles: o.dotfiles === "allow",
        dirListing: o.dirListing,
        cacheControl: o.cacheControl,
        cacheMaxBytes: o.cacheMaxBytes,
        statValid: o.fileCacheValid,
        log,
      }),
    })),
    ...(o.root !== "" ? [{ name: "static", prefix, handler: files }] : []),
  ];
}

/**
 * Where `options` send log lines: access lines to `--log-file` (else stdout), errors to
 * `--error-log` (else stderr), files rotated and gzipped.
 */
export function createLogSinks(o: ResolvedOptions): { access: LogSink; errors: LogSink } {
  const rotation = { size: o.logRotateSize, interval: o.logRotateInterval, keep: o.logRotateKeep };
  return {
    access: o.logFile !== "" ? fileSink(o.logFile, rotation) : Deno.stdout,
    errors: o.errorLog !== "" ? fileSink(o.errorLog, rotation) : Deno.stderr,
  };
}

/**
 * The logger `options` ask for, writing to `sinks` (by default {@linkcode createLogSinks}'s);
 * dropped lines are counted in `stats`.
 */
export function createLogger(
  o: ResolvedOptions,
  stats: Stats,
  sinks: { access: LogSink; errors: LogSink } = createLogSinks(o),
): Logger {
  return new Logger(o.logFormat, sinks.access, sinks.errors, "info", () => stats.logLinesDropped++);
}

/**
 * The app handler for `options.app`: the module it names (WSGI-style or fetch handler), or the
 * built-in example app when it is empty.
 */
export async function createApp(options: ServerOptions, log: Logger): Promise<Handler> {
  if (options.app) return (await loadApp(options.app, log)).handler;
  return wsgiHandler(exampleApp, { log });
}

/**
 * Builds a server with ferry's default mounts and the given app (else `options.app`, else the
 * built-in example app), and starts it.
 */
export async function serve(
  options: ServerOptions = {},
  parts: Partial<ServerParts> & { metricsSource?: () => Stats[] | Promise<Stats[]> } = {},
): Promise<Server> {
  const o = resolveOptions(options); // once; every layer below gets the resolved object
  const stats = parts.stats ?? new Stats();
  const log = parts.log ?? createLogger(o, stats);
  const app = parts.app ?? await createApp(o, log);
  const server = new Server(o, {
    mounts: parts.mounts ?? defaultMounts(o, app, log, stats, parts.metricsSource),
    app,
    tls: parts.tls,
    acmeChallenge: parts.acmeChallenge,
    certificates: parts.certificates,
    log,
    stats,
    stopping: parts.stopping,
  });
  await server.listen();
  return server;
}

// Types that the public API refers to, exported so that it is documented whole.
export { type AccessEntry, AccessMemo, type Level } from "./log/logger.ts";
export { ExchangeRecorder, type RecordedConnection, type RecorderContext } from "./http/recorder.ts";
export { type ByteSink, Output } from "./net/output.ts";
export { type ConnectionContext } from "./http/connection_context.ts";
export {
  type ClientPresence,
  type ClientView,
  type ConnectionInfo,
  type RequestFields,
  type TargetForm,
} from "./http/request.ts";
export { type RequestHead } from "./http1/parser.ts";
export { type LatencyHistogram, RouteLatency, type StatsSnapshot, type TimeoutKind } from "./stats.ts";
export {
  PYTHON_APP_FIELDS,
  type PythonAppCounter,
  type PythonAppField,
  type PythonAppSnapshot,
  PythonAppStats,
} from "./python_app_stats.ts";
export { type ThrottleOptions } from "./upload/auth.ts";
export { type AppKind } from "./app/load.ts";
export { type MetricsOptions } from "./metrics/metrics.ts";
export { type CachedFile, FileCache } from "./static/cache.ts";
export { type WsgiOptions } from "./app/wsgi.ts";
export {
  type AcmeConfig,
  AcmeIssuer,
  type IssuerEvents,
  LETS_ENCRYPT,
  LETS_ENCRYPT_STAGING,
} from "./acme/issuer.ts";
export { acmeJson, type AcmeNameStatus, acmePrometheus } from "./acme/metrics.ts";
export { acmeChallengeHandler } from "./acme/challenge.ts";
export { AcmeStorage, type StoredCertificate } from "./acme/storage.ts";
export { CertStore } from "./tls/cert_store.ts";
