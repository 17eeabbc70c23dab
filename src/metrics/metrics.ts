/**
 * `/_metrics`: the server's counters as JSON, or in the Prometheus text exposition format 0.0.4
 * (`?format=prometheus`, or `Accept: text/plain`), for clients the allow-list admits.
 *
 * @module
 */

import type { Handler } from "../http/dispatch.ts";
import type { ServerRequest } from "../http/request.ts";
import type { ResponseWriter } from "../http/writer.ts";
import { STATUS } from "../http/status.ts";
import { VERSION } from "../version.ts";
import type { AllowList } from "../net/cidr.ts";
import { LATENCY_BUCKETS, newLatencyHistogram, type Stats } from "../stats.ts";
import { TEXT_PLAIN } from "../http/error_page.ts";

/** Live values that are not counters. */
export interface Gauges {
  /** Open connections. */
  connectionsActive: number;
}

/** Options of {@linkcode metricsHandler}. */
export interface MetricsOptions {
  /** The counters (one set, or one per worker to be summed). */
  stats: () => Stats[] | Promise<Stats[]>;
  /** Who may read the metrics (CIDR list). */
  allow: AllowList;
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
const obj = <V>(m: Map<string | number, V>) => Object.fromEntries([...m].map(([k, v]) => [String(k), v]));

/** Adds counter maps together (for several workers). */
function sumMaps<K>(maps: Map<K, number>[]): Map<K, number> {
  const out = new Map<K, number>();
  for (const m of maps) for (const [k, v] of m) out.set(k, (out.get(k) ?? 0) + v);
  return out;
}

/** Requests as `"mount method"` → count, summed over workers. */
function requestCounts(all: Stats[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of all) {
    for (const [mount, byMethod] of s.requests) {
      for (const [method, n] of byMethod) {
        out.set(`${mount} ${method}`, (out.get(`${mount} ${method}`) ?? 0) + n);
      }
    }
  }
  return out;
}

/**
 * The JSON document: at least `requests_total`, `responses` (by status), `connections_active`,
 * `routes` (per mount: count and p50/p95/p99 in ms) and `errors` (by class).
 */
export function metricsJson(all: Stats[]): Record<string, unknown> {
  const sum = (f: (s: Stats) => number) => all.reduce((n, s) => n + f(s), 0);
  const routes: Record<string, unknown> = {};
  const mounts = new Set(all.flatMap((s) => [...s.latency.keys()]));
  const requestsByMount = requestCounts(all);
  for (const mount of [...mounts].sort()) {
    const parts = all.map((s) => s.latency.get(mount)).filter((r) => r !== undefined);
    // Percentiles of several workers: their histograms are merged into one.
    const merged = newLatencyHistogram();
    for (const p of parts) merged.add(p!.histogram);
    const count = parts.reduce((n, p) => n + p!.count, 0);
    const methods: Record<string, number> = {};
    for (const [key, n] of requestsByMount) {
      const [m, method] = key.split(" ");
      if (m === mount) methods[method] = n;
    }
    routes[mount] = {
      count,
      p50_ms: round3(merged.getValueAtPercentile(50) / 1000),
      p95_ms: round3(merged.getValueAtPercentile(95) / 1000),
      p99_ms: round3(merged.getValueAtPercentile(99) / 1000),
      methods,
    };
  }
  return {
    version: VERSION,
    uptime_s: Math.round((Date.now() - Math.min(...all.map((s) => s.startedAt))) / 1000),
    workers: all.length,
    per_worker: all.length > 1
      ? all.map((s) => ({
        worker: s.worker,
        requests_total: s.requestsTotal,
        connections_active: s.connectionsActive,
        connections_total: s.connectionsTotal,
      }))
      : undefined,
    requests_total: sum((s) => s.requestsTotal),
    responses: obj(sumMaps(all.map((s) => s.responses))),
    connections_active: sum((s) => s.connectionsActive),
    connections_total: sum((s) => s.connectionsTotal),
    keepalive_reuse: sum((s) => s.keepAliveReuse),
    bytes_in: sum((s) => s.bytesIn),
    bytes_out: sum((s) => s.bytesOut),
    tls: {
      handshakes_ok: sum((s) => s.tlsHandshakesOk),
      handshakes_failed: sum((s) => s.tlsHandshakesFailed),
      abandoned_held: sum((s) => s.tlsAbandonedHeld),
      accept_pauses: sum((s) => s.tlsAcceptPauses),
    },
    uploads: { stored: sum((s) => s.uploadsStored), bytes: sum((s) => s.uploadBytes) },
    wsgi: {
      workers: sum((s) => s.wsgiWorkers),
      busy: sum((s) => s.wsgiBusy),
      idle: sum((s) => s.wsgiIdle),
      queued: sum((s) => s.wsgiQueued),
      restarts: obj(sumMaps(all.map((s) => s.wsgiRestarts))),
      bad_gateway: sum((s) => s.wsgiBadGateway),
      gateway_timeout: sum((s) => s.wsgiGatewayTimeout),
      refused: sum((s) => s.wsgiRefused),
      retried: sum((s) => s.wsgiRetried),
    },
    websocket: {
      open: sum((s) => s.wsOpen),
      opened: sum((s) => s.wsOpened),
      messages_in: sum((s) => s.wsMessagesIn),
      messages_out: sum((s) => s.wsMessagesOut),
      bytes_in: sum((s) => s.wsBytesIn),
      bytes_out: sum((s) => s.wsBytesOut),
      closes: obj(sumMaps(all.map((s) => s.wsCloses))),
    },
    routes,
    errors: {
      parse: obj(sumMaps(all.map((s) => s.rejections))),
      timeouts: obj(sumMaps(all.map((s) => s.timeouts))),
      capacity_503: sum((s) => s.capacityRejections),
      drain_503: sum((s) => s.drainRejections),
      auth_failures: sum((s) => s.authFailures),
      app_exceptions: sum((s) => s.handlerErrors),
      tls_handshake_failures: sum((s) => s.tlsHandshakesFailed),
      log_lines_dropped: sum((s) => s.logLinesDropped),
    },
  };
}

/** Escapes a label value (backslash, double quote, line feed). */
function label(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Formats a sample value as Prometheus expects. */
function num(n: number): string {
  if (n === Infinity) return "+Inf";
  if (Number.isNaN(n)) return "NaN";
  return String(n);
}

/** CPU ticks per second on Linux (`getconf CLK_TCK`, 100 on every common kernel). */
const CLOCK_TICKS = 100;

/**
 * The standard process metrics of Prometheus client libraries, from /proc/self (where there is
 * none, only the start time).
 */
function processSamples(): Array<{ name: string; type: string; help: string; value: number }> {
  const out: Array<{ name: string; type: string; help: string; value: number }> = [];
  const add = (name: string, type: string, help: string, value: number) =>
    out.push({ name, type, help, value });
  try {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    // Fields after the command name, which is in parentheses and may hold spaces.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    add(
      "process_cpu_seconds_total",
      "counter",
      "Total user and system CPU time spent in seconds.",
      (Number(f[11]) + Number(f[12])) / CLOCK_TICKS,
    );
    const bootTime = Number(/^btime (\d+)/m.exec(Deno.readTextFileSync("/proc/stat"))?.[1] ?? 0);
    add(
      "process_start_time_seconds",
      "gauge",
      "Start time of the process since unix epoch in seconds.",
      bootTime + Number(f[19]) / CLOCK_TICKS,
    );
    const status = Deno.readTextFileSync("/proc/self/status");
    add(
      "process_resident_memory_bytes",
      "gauge",
      "Resident memory size in bytes.",
      Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024,
    );
    add(
      "process_virtual_memory_bytes",
      "gauge",
      "Virtual memory size in bytes.",
      Number(/VmSize:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024,
    );
    let fds = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) fds++;
    add("process_open_fds", "gauge", "Number of open file descriptors.", fds);
    const limit = /^Max open files\s+(\d+)/m.exec(Deno.readTextFileSync("/proc/self/limits"))?.[1];
    if (limit !== undefined) {
      add("process_max_fds", "gauge", "Maximum number of open file descriptors.", Number(limit));
    }
  } catch {
    add(
      "process_start_time_seconds",
      "gauge",
      "Start time of the process since unix epoch in seconds.",
      Math.round(PROCESS_START / 1000),
    );
  }
  return out;
}

const PROCESS_START = Date.now();

/** The Prometheus text exposition format, version 0.0.4. */
export function metricsPrometheus(all: Stats[]): string {
  const lines: string[] = [];
  const family = (name: string, type: string, help: string) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  };
  const sample = (name: string, labels: Record<string, string>, value: number) => {
    const l = Object.entries(labels).map(([k, v]) => `${k}="${label(v)}"`).join(",");
    lines.push(`${name}${l ? `{${l}}` : ""} ${num(value)}`);
  };
  const sum = (f: (s: Stats) => number) => all.reduce((n, s) => n + f(s), 0);
  const labelled = (name: string, help: string, key: string, map: Map<string | number, number>) => {
    family(name, "counter", help);
    for (const [k, v] of [...map].sort((a, b) => String(a[0]).localeCompare(String(b[0])))) {
      sample(name, { [key]: String(k) }, v);
    }
  };

  family("ferry_build_info", "gauge", "Build information; the value is always 1.");
  sample("ferry_build_info", { version: VERSION }, 1);
  family("ferry_uptime_seconds", "gauge", "Seconds since the server started.");
  sample(
    "ferry_uptime_seconds",
    {},
    Math.round((Date.now() - Math.min(...all.map((s) => s.startedAt))) / 1000),
  );
  family("ferry_log_lines_dropped_total", "counter", "Log lines dropped because the log could not keep up.");
  sample("ferry_log_lines_dropped_total", {}, sum((s) => s.logLinesDropped));
  for (const p of processSamples()) {
    family(p.name, p.type, p.help);
    sample(p.name, {}, p.value);
  }
  family("ferry_requests_total", "counter", "Requests by mount and method.");
  for (const [key, v] of [...requestCounts(all)].sort()) {
    const [mount, method] = key.split(" ");
    sample("ferry_requests_total", { mount, method }, v);
  }
  labelled(
    "ferry_responses_total",
    "Responses by status code.",
    "code",
    sumMaps(all.map((s) => s.responses)),
  );
  family("ferry_connections_active", "gauge", "Open connections.");
  sample("ferry_connections_active", {}, sum((s) => s.connectionsActive));
  family("ferry_connections_total", "counter", "Connections accepted.");
  sample("ferry_connections_total", {}, sum((s) => s.connectionsTotal));
  family(
    "ferry_keepalive_reuse_total",
    "counter",
    "Requests served on a connection that had served one before.",
  );
  sample("ferry_keepalive_reuse_total", {}, sum((s) => s.keepAliveReuse));
  family("ferry_received_bytes_total", "counter", "Bytes read from clients.");
  sample("ferry_received_bytes_total", {}, sum((s) => s.bytesIn));
  family("ferry_sent_bytes_total", "counter", "Bytes written to clients.");
  sample("ferry_sent_bytes_total", {}, sum((s) => s.bytesOut));
  family("ferry_tls_handshakes_total", "counter", "TLS handshakes by result.");
  sample("ferry_tls_handshakes_total", { result: "ok" }, sum((s) => s.tlsHandshakesOk));
  sample("ferry_tls_handshakes_total", { result: "failed" }, sum((s) => s.tlsHandshakesFailed));
  family("ferry_wsgi_workers", "gauge", "Python WSGI workers by state.");
  sample("ferry_wsgi_workers", { state: "busy" }, sum((s) => s.wsgiBusy));
  sample("ferry_wsgi_workers", { state: "idle" }, sum((s) => s.wsgiIdle));
  family("ferry_wsgi_queue_length", "gauge", "Requests waiting for a free Python worker.");
  sample("ferry_wsgi_queue_length", {}, sum((s) => s.wsgiQueued));
  family("ferry_wsgi_restarts_total", "counter", "Python workers replaced, by cause.");
  for (const [cause, n] of sumMaps(all.map((s) => s.wsgiRestarts))) {
    sample("ferry_wsgi_restarts_total", { cause }, n);
  }
  family("ferry_wsgi_errors_total", "counter", "Python gateway failures by status (502, 503, 504).");
  sample("ferry_wsgi_errors_total", { code: "502" }, sum((s) => s.wsgiBadGateway));
  sample("ferry_wsgi_errors_total", { code: "503" }, sum((s) => s.wsgiRefused));
  sample("ferry_wsgi_errors_total", { code: "504" }, sum((s) => s.wsgiGatewayTimeout));
  family("ferry_websockets_open", "gauge", "WebSocket connections open.");
  sample("ferry_websockets_open", {}, sum((s) => s.wsOpen));
  family("ferry_websocket_messages_total", "counter", "WebSocket messages by direction.");
  sample("ferry_websocket_messages_total", { direction: "in" }, sum((s) => s.wsMessagesIn));
  sample("ferry_websocket_messages_total", { direction: "out" }, sum((s) => s.wsMessagesOut));
  family("ferry_websocket_payload_bytes_total", "counter", "WebSocket message payload bytes by direction.");
  sample("ferry_websocket_payload_bytes_total", { direction: "in" }, sum((s) => s.wsBytesIn));
  sample("ferry_websocket_payload_bytes_total", { direction: "out" }, sum((s) => s.wsBytesOut));
  family("ferry_websocket_closes_total", "counter", "WebSocket connections closed, by close code.");
  for (const [code, n] of sumMaps(all.map((s) => s.wsCloses))) {
    sample("ferry_websocket_closes_total", { code }, n);
  }
  family(
    "ferry_tls_abandoned_sockets",
    "gauge",
    "TLS sockets whose handshake timed out but whose descriptor the runtime still holds.",
  );
  sample("ferry_tls_abandoned_sockets", {}, sum((s) => s.tlsAbandonedHeld));
  family(
    "ferry_tls_accept_pauses_total",
    "counter",
    "Times the TLS listener stopped accepting because pending handshakes held their descriptor budget.",
  );
  sample("ferry_tls_accept_pauses_total", {}, sum((s) => s.tlsAcceptPauses));
  labelled(
    "ferry_parse_errors_total",
    "Requests refused by the parser, by reason.",
    "reason",
    sumMaps(all.map((s) => s.rejections)),
  );
  labelled("ferry_timeouts_total", "Timeouts by kind.", "kind", sumMaps(all.map((s) => s.timeouts)));
  family(
    "ferry_capacity_rejections_total",
    "counter",
    "Connections refused with 503 because the server was full.",
  );
  sample("ferry_capacity_rejections_total", {}, sum((s) => s.capacityRejections));
  family("ferry_drain_rejections_total", "counter", "Requests refused with 503 during shutdown.");
  sample("ferry_drain_rejections_total", {}, sum((s) => s.drainRejections));
  family("ferry_auth_failures_total", "counter", "Failed upload authentications.");
  sample("ferry_auth_failures_total", {}, sum((s) => s.authFailures));
  family("ferry_app_exceptions_total", "counter", "Exceptions thrown by handlers.");
  sample("ferry_app_exceptions_total", {}, sum((s) => s.handlerErrors));
  family("ferry_uploads_total", "counter", "Uploads stored.");
  sample("ferry_uploads_total", {}, sum((s) => s.uploadsStored));

  family(
    "ferry_request_duration_seconds",
    "histogram",
    "Time from request head to finished response, by mount.",
  );
  const mounts = [...new Set(all.flatMap((s) => [...s.latency.keys()]))].sort();
  for (const mount of mounts) {
    const parts = all.map((s) => s.latency.get(mount)).filter((r) => r !== undefined);
    let cumulative = 0;
    for (let i = 0; i <= LATENCY_BUCKETS.length; i++) {
      cumulative += parts.reduce((n, p) => n + p!.buckets[i], 0);
      const le = i < LATENCY_BUCKETS.length ? num(LATENCY_BUCKETS[i]) : "+Inf";
      sample("ferry_request_duration_seconds_bucket", { mount, le }, cumulative);
    }
    sample("ferry_request_duration_seconds_sum", { mount }, parts.reduce((n, p) => n + p!.sumSeconds, 0));
    sample("ferry_request_duration_seconds_count", { mount }, parts.reduce((n, p) => n + p!.count, 0));
  }
  return lines.join("\n") + "\n";
}

/** Whether the request wants the Prometheus format. */
function wantsPrometheus(req: ServerRequest): boolean {
  const format = /(?:^|&)format=([^&]*)/.exec(req.query)?.[1];
  if (format !== undefined) return format === "prometheus";
  const accept = req.headers.get("accept") ?? "";
  return /text\/plain|application\/openmetrics-text/.test(accept) && !/application\/json/.test(accept);
}

/**
 * The `/_metrics` handler.
 *
 * @example
 * ```ts ignore
 * const handler = metricsHandler({ stats: () => [server.stats], allow: AllowList.parse(LOOPBACK) });
 * ```
 */
export function metricsHandler(options: MetricsOptions): Handler {
  return async function metrics(req: ServerRequest, res: ResponseWriter): Promise<void> {
    if (!options.allow.allows(req.clientAddr)) {
      return await res.send(STATUS.Forbidden, [TEXT_PLAIN], "Forbidden\n");
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      return await res.send(STATUS.MethodNotAllowed, [["Allow", "GET, HEAD"]], "");
    }
    const all = await options.stats();
    const noStore: [string, string] = ["Cache-Control", "no-store"];
    if (wantsPrometheus(req)) {
      return await res.send(
        STATUS.OK,
        [["Content-Type", "text/plain; version=0.0.4; charset=utf-8"], noStore],
        metricsPrometheus(all),
      );
    }
    await res.send(
      STATUS.OK,
      [["Content-Type", "application/json"], noStore],
      JSON.stringify(metricsJson(all), null, 2) + "\n",
    );
  };
}
