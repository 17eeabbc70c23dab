/**
 * Every counter of {@linkcode Stats}, declared once: its field, whether it is a counter or a
 * gauge, where it sits in the `/_metrics` JSON document, its Prometheus family (and labels), and
 * what it counts. The JSON, Prometheus and dashboard renderings all read this table, so a
 * counter added to `Stats` and here shows up in each (a test checks that every numeric field
 * and map of `Stats` is here, and that every entry appears in every rendering).
 *
 * @module
 */

import type { Stats } from "../stats.ts";

/** The numeric fields of {@linkcode Stats} that count or measure something. */
export type CounterField = Exclude<
  { [K in keyof Stats]: Stats[K] extends number ? K : never }[keyof Stats],
  "startedAt" | "worker"
>;

/** The fields of {@linkcode Stats} that count by a key (status, reason, kind, cause, code). */
export type LabelledField =
  | "responses"
  | "rejections"
  | "timeouts"
  | "wsgiRestarts"
  | "wsCloses"
  | "h2ResetsSent"
  | "h2Goaways"
  | "h2Limits"
  | "upstreamRequests"
  | "upstreamFailures"
  | "upstreamRetries"
  | "upstreamHealthy"
  | "upstreamActive"
  | "upstreamSeconds"
  | "h3Errors"
  | "h3Goaways"
  | "h3Limits";

/** One counter or gauge: one number. */
export interface Counter {
  /** The field of {@linkcode Stats}. */
  readonly field: CounterField;
  /** `counter` (only grows) or `gauge` (goes up and down). */
  readonly kind: "counter" | "gauge";
  /** Its dotted path in the JSON document (`uploads.bytes`). */
  readonly json: string;
  /** Its Prometheus family; entries that share one differ by {@linkcode Counter.labels}. */
  readonly prom: string;
  /** The sample's labels within its family. */
  readonly labels?: Readonly<Record<string, string>>;
  /** What it counts (the family's HELP is its first entry's). */
  readonly help: string;
}

/** A counter by key: one number per status, reason, kind, cause or close code. */
export interface LabelledCounter {
  /** The map field of {@linkcode Stats}. */
  readonly field: LabelledField;
  /** Its dotted path in the JSON document (an object from key to count). */
  readonly json: string;
  /** Its Prometheus family (a counter). */
  readonly prom: string;
  /** The label the key goes in. */
  readonly label: string;
  /**
   * A second label: the key is then `FIRST SECOND` (split at its first space), the JSON an object
   * of objects (`{ "backend": { "127.0.0.1:9001": 3 } }`).
   */
  readonly label2?: string;
  /** `gauge` for values that go up and down. @default "counter" */
  readonly kind?: "counter" | "gauge";
  /** What it counts. */
  readonly help: string;
}

/** The counters, in the order they are rendered. */
export const COUNTERS: readonly Counter[] = [
  {
    field: "requestsTotal",
    kind: "counter",
    json: "requests_total",
    prom: "ferry_requests_received_total",
    help: "Requests whose head parsed, refused ones included.",
  },
  {
    field: "connectionsActive",
    kind: "gauge",
    json: "connections_active",
    prom: "ferry_connections_active",
    help: "Open connections.",
  },
  {
    field: "connectionsTotal",
    kind: "counter",
    json: "connections_total",
    prom: "ferry_connections_total",
    help: "Connections accepted.",
  },
  {
    field: "keepAliveReuse",
    kind: "counter",
    json: "keepalive_reuse",
    prom: "ferry_keepalive_reuse_total",
    help: "Requests served on a connection that had served one before.",
  },
  {
    field: "bytesIn",
    kind: "counter",
    json: "bytes_in",
    prom: "ferry_received_bytes_total",
    help: "Bytes read from client sockets (request heads and bodies).",
  },
  {
    field: "bytesOut",
    kind: "counter",
    json: "bytes_out",
    prom: "ferry_sent_bytes_total",
    help: "Bytes written to clients.",
  },
  {
    field: "socketWrites",
    kind: "counter",
    json: "socket_writes",
    prom: "ferry_socket_writes_total",
    help: "Socket writes of closed connections (pipelined responses share one).",
  },
  {
    field: "acceptLost",
    kind: "counter",
    json: "accept.lost",
    prom: "ferry_accept_lost_total",
    help: "Connections reset before they were accepted (each ends alone; the accept loop goes on at once).",
  },
  {
    field: "acceptBackoffs",
    kind: "counter",
    json: "accept.backoffs",
    prom: "ferry_accept_backoffs_total",
    help:
      "Listener-wide accept failures (out of descriptors or buffers), each followed by a wait of 5-100 ms.",
  },
  {
    field: "configReloadsOk",
    kind: "counter",
    json: "config.reloads_ok",
    prom: "ferry_config_reloads_total",
    labels: { result: "ok" },
    help: "Config reloads (POST /load, SIGHUP) by result; a failed one keeps the old config.",
  },
  {
    field: "configReloadsFailed",
    kind: "counter",
    json: "config.reloads_failed",
    prom: "ferry_config_reloads_total",
    labels: { result: "failed" },
    help: "Config reloads (POST /load, SIGHUP) by result; a failed one keeps the old config.",
  },
  {
    field: "tlsHandshakesOk",
    kind: "counter",
    json: "tls.handshakes_ok",
    prom: "ferry_tls_handshakes_total",
    labels: { result: "ok" },
    help: "TLS handshakes by result.",
  },
  {
    field: "tlsHandshakesFailed",
    kind: "counter",
    json: "tls.handshakes_failed",
    prom: "ferry_tls_handshakes_total",
    labels: { result: "failed" },
    help: "TLS handshakes by result.",
  },
  {
    field: "tlsAbandonedHeld",
    kind: "gauge",
    json: "tls.abandoned_held",
    prom: "ferry_tls_abandoned_sockets",
    help: "TLS sockets whose handshake timed out but whose descriptor the runtime still holds.",
  },
  {
    field: "tlsAcceptPauses",
    kind: "counter",
    json: "tls.accept_pauses",
    prom: "ferry_tls_accept_pauses_total",
    help: "Times the TLS listener stopped accepting because pending handshakes held their descriptor budget.",
  },
  {
    field: "h2Connections",
    kind: "counter",
    json: "http2.connections_total",
    prom: "ferry_http2_connections_total",
    help: "HTTP/2 connections served (ALPN h2, or h2c with prior knowledge).",
  },
  {
    field: "h2ConnectionsActive",
    kind: "gauge",
    json: "http2.connections_active",
    prom: "ferry_http2_connections_active",
    help: "Open HTTP/2 connections (the rest of connections_active is HTTP/1.1).",
  },
  {
    field: "h2Streams",
    kind: "counter",
    json: "http2.streams_total",
    prom: "ferry_http2_streams_total",
    help: "HTTP/2 streams opened by clients.",
  },
  {
    field: "h2ResetsReceived",
    kind: "counter",
    json: "http2.resets_received",
    prom: "ferry_http2_resets_received_total",
    help: "HTTP/2 streams reset by clients.",
  },
  {
    field: "h3Connections",
    kind: "counter",
    json: "http3.connections_total",
    prom: "ferry_http3_connections_total",
    help: "HTTP/3 connections served (QUIC, ALPN h3).",
  },
  {
    field: "h3ConnectionsActive",
    kind: "gauge",
    json: "http3.connections_active",
    prom: "ferry_http3_connections_active",
    help: "Open HTTP/3 connections.",
  },
  {
    field: "h3Streams",
    kind: "counter",
    json: "http3.streams_total",
    prom: "ferry_http3_streams_total",
    help: "HTTP/3 request streams opened by clients.",
  },
  {
    field: "uploadsStored",
    kind: "counter",
    json: "uploads.stored",
    prom: "ferry_uploads_total",
    help: "Uploads stored.",
  },
  {
    field: "uploadBytes",
    kind: "counter",
    json: "uploads.bytes",
    prom: "ferry_upload_bytes_total",
    help: "Bytes of stored uploads.",
  },
  {
    field: "wsgiWorkers",
    kind: "gauge",
    json: "wsgi.workers",
    prom: "ferry_wsgi_worker_processes",
    help: "Python workers alive.",
  },
  {
    field: "wsgiBusy",
    kind: "gauge",
    json: "wsgi.busy",
    prom: "ferry_wsgi_workers",
    labels: { state: "busy" },
    help: "Python workers by state.",
  },
  {
    field: "wsgiIdle",
    kind: "gauge",
    json: "wsgi.idle",
    prom: "ferry_wsgi_workers",
    labels: { state: "idle" },
    help: "Python workers by state.",
  },
  {
    field: "wsgiQueued",
    kind: "gauge",
    json: "wsgi.queued",
    prom: "ferry_wsgi_queue_length",
    help: "Requests waiting for a free Python worker.",
  },
  {
    field: "wsgiBadGateway",
    kind: "counter",
    json: "wsgi.bad_gateway",
    prom: "ferry_wsgi_errors_total",
    labels: { code: "502" },
    help: "Python gateway failures by status (502, 503, 504).",
  },
  {
    field: "wsgiRefused",
    kind: "counter",
    json: "wsgi.refused",
    prom: "ferry_wsgi_errors_total",
    labels: { code: "503" },
    help: "Python gateway failures by status (502, 503, 504).",
  },
  {
    field: "wsgiGatewayTimeout",
    kind: "counter",
    json: "wsgi.gateway_timeout",
    prom: "ferry_wsgi_errors_total",
    labels: { code: "504" },
    help: "Python gateway failures by status (502, 503, 504).",
  },
  {
    field: "wsgiRetried",
    kind: "counter",
    json: "wsgi.retried",
    prom: "ferry_wsgi_retried_total",
    help: "Requests a Python worker died before beginning, handed to another worker.",
  },
  {
    field: "wsOpen",
    kind: "gauge",
    json: "websocket.open",
    prom: "ferry_websockets_open",
    help: "WebSocket connections open.",
  },
  {
    field: "wsOpened",
    kind: "counter",
    json: "websocket.opened",
    prom: "ferry_websockets_opened_total",
    help: "WebSocket connections opened.",
  },
  {
    field: "wsMessagesIn",
    kind: "counter",
    json: "websocket.messages_in",
    prom: "ferry_websocket_messages_total",
    labels: { direction: "in" },
    help: "WebSocket messages by direction.",
  },
  {
    field: "wsMessagesOut",
    kind: "counter",
    json: "websocket.messages_out",
    prom: "ferry_websocket_messages_total",
    labels: { direction: "out" },
    help: "WebSocket messages by direction.",
  },
  {
    field: "wsBytesIn",
    kind: "counter",
    json: "websocket.bytes_in",
    prom: "ferry_websocket_payload_bytes_total",
    labels: { direction: "in" },
    help: "WebSocket message payload bytes by direction.",
  },
  {
    field: "wsBytesOut",
    kind: "counter",
    json: "websocket.bytes_out",
    prom: "ferry_websocket_payload_bytes_total",
    labels: { direction: "out" },
    help: "WebSocket message payload bytes by direction.",
  },
  {
    field: "capacityRejections",
    kind: "counter",
    json: "errors.capacity_503",
    prom: "ferry_capacity_rejections_total",
    help: "Connections refused with 503 because the server was full.",
  },
  {
    field: "drainRejections",
    kind: "counter",
    json: "errors.drain_503",
    prom: "ferry_drain_rejections_total",
    help: "Requests refused with 503 during shutdown.",
  },
  {
    field: "authFailures",
    kind: "counter",
    json: "errors.auth_failures",
    prom: "ferry_auth_failures_total",
    help: "Failed upload authentications.",
  },
  {
    field: "handlerErrors",
    kind: "counter",
    json: "errors.app_exceptions",
    prom: "ferry_app_exceptions_total",
    help: "Exceptions thrown by handlers.",
  },
  {
    field: "logLinesDropped",
    kind: "counter",
    json: "errors.log_lines_dropped",
    prom: "ferry_log_lines_dropped_total",
    help: "Log lines dropped because the log could not keep up.",
  },
];

/** The counters by key. */
export const LABELLED_COUNTERS: readonly LabelledCounter[] = [
  {
    field: "responses",
    json: "responses",
    prom: "ferry_responses_total",
    label: "code",
    help: "Responses by status code.",
  },
  {
    field: "rejections",
    json: "errors.parse",
    prom: "ferry_parse_errors_total",
    label: "reason",
    help: "Requests refused by the parser, by reason.",
  },
  {
    field: "timeouts",
    json: "errors.timeouts",
    prom: "ferry_timeouts_total",
    label: "kind",
    help: "Timeouts by kind.",
  },
  {
    field: "wsgiRestarts",
    json: "wsgi.restarts",
    prom: "ferry_wsgi_restarts_total",
    label: "cause",
    help: "Python workers replaced, by cause.",
  },
  {
    field: "wsCloses",
    json: "websocket.closes",
    prom: "ferry_websocket_closes_total",
    label: "code",
    help: "WebSocket connections closed, by close code.",
  },
  {
    field: "h2ResetsSent",
    json: "http2.resets_sent",
    prom: "ferry_http2_resets_sent_total",
    label: "code",
    help: "HTTP/2 RST_STREAM frames sent, by error code.",
  },
  {
    field: "h2Goaways",
    json: "http2.goaways_sent",
    prom: "ferry_http2_goaways_sent_total",
    label: "code",
    help: "HTTP/2 GOAWAY frames sent, by error code.",
  },
  {
    field: "h2Limits",
    json: "http2.limits",
    prom: "ferry_http2_limits_total",
    label: "kind",
    help: "HTTP/2 limits met (floods, resets, stalls) and requests refused, by kind.",
  },
  ...upstream(
    "upstreamRequests",
    "requests",
    "ferry_upstream_requests_total",
    "Requests sent to an upstream target.",
  ),
  ...upstream(
    "upstreamFailures",
    "failures",
    "ferry_upstream_failures_total",
    "Upstream failures: connect refused or timed out, reset, header timeout, bad framing.",
  ),
  ...upstream(
    "upstreamRetries",
    "retries",
    "ferry_upstream_retries_total",
    "Requests tried on another target after this one failed.",
  ),
  ...upstream(
    "upstreamHealthy",
    "healthy",
    "ferry_upstream_healthy",
    "1 when the target's last active health check passed (or none is configured), else 0.",
    "gauge",
  ),
  ...upstream(
    "upstreamActive",
    "active",
    "ferry_upstream_active",
    "Requests in flight to the target.",
    "gauge",
  ),
  ...upstream(
    "upstreamSeconds",
    "header_seconds_sum",
    "ferry_upstream_header_seconds_total",
    "Seconds from sending a request to the target's response head, summed (divide by requests).",
  ),
  {
    field: "h3Errors",
    json: "http3.connection_errors",
    prom: "ferry_http3_connection_errors_total",
    label: "code",
    help: "HTTP/3 connections closed for an error, by error code.",
  },
  {
    field: "h3Goaways",
    json: "http3.goaways_sent",
    prom: "ferry_http3_goaways_sent_total",
    label: "code",
    help: "HTTP/3 GOAWAY frames sent, by error code.",
  },
  {
    field: "h3Limits",
    json: "http3.limits",
    prom: "ferry_http3_limits_total",
    label: "kind",
    help: "HTTP/3 limits met (floods, timeouts) and requests refused, by kind.",
  },
];

/** An entry of the reverse proxy's counters, by upstream and target. */
function upstream(
  field: LabelledField,
  json: string,
  prom: string,
  help: string,
  kind: "counter" | "gauge" = "counter",
): LabelledCounter[] {
  return [{ field, json: `upstreams.${json}`, prom, label: "upstream", label2: "target", kind, help }];
}

/** `field` summed over `all` (one Stats per `--workers` isolate). */
export function total(all: readonly Stats[], field: CounterField): number {
  let n = 0;
  for (const s of all) n += s[field];
  return n;
}

/** The map `field` summed over `all`. */
export function totals(all: readonly Stats[], field: LabelledField): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of all) {
    for (const [k, v] of s[field] as Map<string | number, number>) {
      out.set(String(k), (out.get(String(k)) ?? 0) + v);
    }
  }
  return out;
}

/**
 * A labelled counter's values as JSON: an object from key to value, or with a second label an
 * object from the first label's value to an object from the second's to the value.
 */
export function labelledJson(c: LabelledCounter, values: Map<string, number>): Record<string, unknown> {
  if (c.label2 === undefined) return Object.fromEntries(values);
  const out: Record<string, Record<string, number>> = {};
  for (const [k, v] of values) {
    const sp = k.indexOf(" ");
    (out[k.slice(0, sp)] ??= {})[k.slice(sp + 1)] = v;
  }
  return out;
}

/**
 * The Python gateway's other name: its counters serve `--wsgi` and `--asgi` alike, so each
 * `wsgi.*` JSON path and `ferry_wsgi_*` Prometheus family is rendered again as `python.*` and
 * `ferry_python_*` (the `wsgi` names stay, so no dashboard or alert breaks). Undefined for the rest.
 *
 * @example
 * ```ts
 * import { pythonAlias } from "./counters.ts";
 * console.log(pythonAlias("ferry_wsgi_restarts_total")); // ferry_python_restarts_total
 * ```
 */
export function pythonAlias(name: string): string | undefined {
  if (name.startsWith("wsgi.")) return "python." + name.slice("wsgi.".length);
  if (name.startsWith("ferry_wsgi_")) return "ferry_python_" + name.slice("ferry_wsgi_".length);
  return undefined;
}

/** Sets `value` at the dotted `path` of `doc`, making the objects on the way. */
export function setPath(doc: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let at = doc;
  for (let i = 0; i < parts.length - 1; i++) at = (at[parts[i]] ??= {}) as Record<string, unknown>;
  at[parts[parts.length - 1]] = value;
}
