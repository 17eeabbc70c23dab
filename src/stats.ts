/**
 * The server's counters: what the engine (connections, modules, the Python pool) counts as it works.
 * They live outside the `/_metrics` module, which only renders them.
 *
 * @module
 */

import * as hdr from "hdr-histogram-js";
import { type PythonAppSnapshot, PythonAppStats } from "./python_app_stats.ts";

/** Upper bounds (seconds) of the Prometheus latency histogram buckets. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** What ferry uses of an HDR histogram (hdr-histogram-js provides it). */
export interface LatencyHistogram {
  /** Records one value. */
  recordValue(value: number): void;
  /** Records `count` times one value. */
  recordValueWithCount(value: number, count: number): void;
  /** The value at a percentile (0–100). */
  getValueAtPercentile(percentile: number): number;
  /** Adds another histogram's counts. */
  add(other: LatencyHistogram): void;
  /** Values recorded. */
  readonly totalCount: number;
}

/** Largest latency recorded, microseconds (an hour); longer ones count as this. */
const MAX_LATENCY_US = 3_600_000_000;

/** An empty latency histogram: microseconds from 1 µs to an hour, 2 significant digits. */
export function newLatencyHistogram(): LatencyHistogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: MAX_LATENCY_US,
    numberOfSignificantValueDigits: 2,
  });
}

/**
 * The HDR layout for 2 significant digits from 1 µs: 256 sub-buckets in bucket 0, then 128 (the
 * upper half) in each bucket of twice the range. A value's slot is found with `Math.clz32` and a
 * shift; hdr-histogram-js finds the same slot with `Math.log2` and two `Math.pow` calls per value.
 */
const HALF_MAGNITUDE = 7;
const HALF = 1 << HALF_MAGNITUDE;
const SLOTS = (31 - HALF_MAGNITUDE + 1) * HALF + HALF;

/** The slot of `us` (1 ≤ us < 2³²) in the HDR layout. */
function slotOf(us: number): number {
  const bucket = Math.max(0, 31 - Math.clz32(us) - HALF_MAGNITUDE);
  return bucket * HALF + (us >>> bucket);
}

/** The lowest value that falls in `slot`. */
function slotValue(slot: number): number {
  if (slot < 2 * HALF) return slot;
  const bucket = (slot >>> HALF_MAGNITUDE) - 1;
  return ((slot & (HALF - 1)) + HALF) * 2 ** bucket;
}

/**
 * Latency of one mount: an HDR histogram (microseconds, 2 significant digits) for percentiles,
 * and cumulative-ready bucket counts, sum and count for the Prometheus histogram. A request
 * only counts into a slot of the same layout; the slots are added to the HDR histogram when it
 * is read, which gives the very counts that recording each value into it would.
 */
export class RouteLatency {
  /** Requests observed. */
  count = 0;
  /** Sum of durations, seconds. */
  sumSeconds = 0;
  /** Per-bucket counts (not cumulative); the last slot is +Inf. */
  readonly buckets: number[] = new Array(LATENCY_BUCKETS.length + 1).fill(0);
  #histogram: LatencyHistogram = newLatencyHistogram();
  /** Counts by HDR slot, not yet added to the histogram. */
  #slots: Uint32Array | undefined;
  #pending = 0;

  /** Records a duration in milliseconds, `times` times (requests that arrived and ended together). */
  record(ms: number, times = 1): void {
    this.count += times;
    const s = ms / 1000;
    this.sumSeconds += times === 1 ? s : s * times;
    let i = 0;
    while (i < LATENCY_BUCKETS.length && s > LATENCY_BUCKETS[i]) i++;
    this.buckets[i] += times;
    const us = Math.round(ms * 1000);
    const slots = this.#slots ??= new Uint32Array(SLOTS);
    slots[slotOf(us >= 1 ? (us <= MAX_LATENCY_US ? us : MAX_LATENCY_US) : 1)] += times;
    // A slot's count stays far below 2³² between reads.
    if ((this.#pending += times) >= 0x7fffffff) this.#fold();
  }

  /** The HDR histogram, in microseconds, with every duration recorded so far. */
  get histogram(): LatencyHistogram {
    this.#fold();
    return this.#histogram;
  }

  /** Adds the pending slot counts to the histogram. */
  #fold(): void {
    const slots = this.#slots;
    if (slots === undefined || this.#pending === 0) return;
    for (let i = 0; i < slots.length; i++) {
      if (slots[i] !== 0) {
        this.#histogram.recordValueWithCount(slotValue(i), slots[i]);
        slots[i] = 0;
      }
    }
    this.#pending = 0;
  }

  /** The duration at `percentile` (0–100), in milliseconds. */
  percentileMs(percentile: number): number {
    return this.count === 0 ? 0 : this.histogram.getValueAtPercentile(percentile) / 1000;
  }
}

/** {@linkcode Stats} as plain data (maps as entry lists, histograms encoded). */
export interface StatsSnapshot {
  /** The plain counters, by field name. */
  [field: string]: unknown;
  /** Requests by mount, then by method. */
  requests: Array<[string, Array<[string, number]>]>;
  /** Responses by status. */
  responses: Array<[number, number]>;
  /** Parser rejections by reason. */
  rejections: Array<[string, number]>;
  /** Timeouts by kind. */
  timeouts: Array<[TimeoutKind, number]>;
  /** Latency by mount: counts, sum, buckets and the HDR histogram (compressed base64). */
  latency: Array<[string, { count: number; sumSeconds: number; buckets: number[]; histogram: string }]>;
  /** Python counters by app name. */
  pythonApps?: Array<[string, PythonAppSnapshot]>;
}

/** Kinds of timeout, for {@linkcode Stats.timeouts}. */
export type TimeoutKind = "header" | "body" | "keepalive" | "write" | "handshake" | "websocket";

/** Increments `key` in a counter map. */
export function bump<K>(map: Map<K, number>, key: K, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

/**
 * Counters of one server. Plain fields and maps: incrementing one costs an add, so the engine
 * can count on its hot path.
 *
 * @example
 * ```ts
 * import { Stats } from "./stats.ts";
 * const s = new Stats();
 * s.requestsTotal++;
 * console.log(s.requestsTotal); // 1
 * ```
 */
export class Stats {
  /** When the server started (ms since the epoch). */
  readonly startedAt: number = Date.now();
  /** Connections accepted (admitted or not). */
  connectionsTotal = 0;
  /** Connections open now. */
  connectionsActive = 0;
  /** HTTP/2 connections served (ALPN h2, or h2c with prior knowledge). */
  h2Connections = 0;
  /** HTTP/2 connections open now. */
  h2ConnectionsActive = 0;
  /** HTTP/2 streams opened by clients. */
  h2Streams = 0;
  /** HTTP/2 streams reset by clients (RST_STREAM received on an open stream). */
  h2ResetsReceived = 0;
  /** HTTP/2 RST_STREAM frames sent, by error code name. */
  readonly h2ResetsSent: Map<string, number> = new Map();
  /** HTTP/2 GOAWAY frames sent, by error code name. */
  readonly h2Goaways: Map<string, number> = new Map();
  /**
   * HTTP/2 limits met and requests refused, by kind: `rapid_reset`, `ping_flood`,
   * `settings_flood`, `control_flood`, `continuation_flood`, `empty_frames`, `headers_too_large`, `stalled`,
   * `refused` (REFUSED_STREAM), `malformed`, `http11_required`.
   */
  readonly h2Limits: Map<string, number> = new Map();
  /** HTTP/3 connections served (QUIC, ALPN h3; `--http3`). */
  h3Connections = 0;
  /** HTTP/3 connections open now. */
  h3ConnectionsActive = 0;
  /** HTTP/3 request streams opened by clients. */
  h3Streams = 0;
  /** HTTP/3 connections closed for an error, by error code name (`FRAME_UNEXPECTED`, ...). */
  readonly h3Errors: Map<string, number> = new Map();
  /** HTTP/3 GOAWAY frames sent, by error code name of the close that follows. */
  readonly h3Goaways: Map<string, number> = new Map();
  /**
   * HTTP/3 limits met and requests refused, by kind: `headers_too_large`, `malformed`, `waste`
   * (frames that do no work), `head_timeout`, `stalled`.
   */
  readonly h3Limits: Map<string, number> = new Map();
  /** Requests whose head parsed. */
  requestsTotal = 0;
  /** Requests that arrived on a connection that had served one before. */
  keepAliveReuse = 0;
  /** Bytes read from client sockets: request heads and bodies (and WebSocket frames). */
  bytesIn = 0;
  /** Bytes written to sockets. */
  bytesOut = 0;
  /** Response flushes (socket writes) of closed connections. */
  socketWrites = 0;
  /** Connections refused with 503 because the server was full. */
  capacityRejections = 0;
  /** Requests refused with 503 during a graceful shutdown. */
  drainRejections = 0;
  /** Failed upload authentications. */
  authFailures = 0;
  /** Uploads stored. */
  uploadsStored = 0;
  /** Bytes of stored uploads. */
  uploadBytes = 0;
  /** Exceptions thrown by handlers. */
  handlerErrors = 0;
  /** TLS handshakes that completed. */
  tlsHandshakesOk = 0;
  /** TLS handshakes that failed or timed out. */
  tlsHandshakesFailed = 0;
  /**
   * TLS sockets given up on (handshake timed out and closed) whose descriptor the runtime still
   * holds, because a handshake in progress keeps it until the peer sends or hangs up. A gauge.
   */
  tlsAbandonedHeld = 0;
  /** Connections gone before they were accepted (reset in the backlog): that connection's fault, not the listener's. */
  acceptLost = 0;
  /** Listener-wide accept failures (EMFILE, ENFILE, ENOBUFS), each followed by a brief wait. */
  acceptBackoffs = 0;
  /** Config loads swapped in (`POST /load`, SIGHUP) after the first. */
  configReloadsOk = 0;
  /** Config loads refused (invalid, or an app did not start): the old config kept serving. */
  configReloadsFailed = 0;
  /** Times the TLS listener stopped accepting because handshakes held their descriptor budget. */
  tlsAcceptPauses = 0;
  /** Python WSGI workers alive (a gauge; 0 without `--wsgi`). */
  wsgiWorkers = 0;
  /** Python workers serving a request (a gauge). */
  wsgiBusy = 0;
  /** Python workers waiting for a request (a gauge). */
  wsgiIdle = 0;
  /** Requests waiting for a free Python worker (a gauge). */
  wsgiQueued = 0;
  /** Python workers replaced, by cause (crash, timeout, max_requests, max_rss, reload, cancel). */
  readonly wsgiRestarts: Map<string, number> = new Map();
  /** 502s: a Python worker died or sent garbage before the response head. */
  wsgiBadGateway = 0;
  /** 504s: a request ran past `--wsgi-timeout`. */
  wsgiGatewayTimeout = 0;
  /** 503s: no Python worker free within the queue bounds. */
  wsgiRefused = 0;
  /** Requests a Python worker died before beginning, handed to another one. */
  wsgiRetried = 0;
  /**
   * The Python counters again, by app name (the config's name, or the module of `--wsgi`/`--asgi`):
   * each app's pool counts into its entry and into the totals above.
   */
  readonly pythonApps: Map<string, PythonAppStats> = new Map();
  /** WebSockets open now (a gauge). */
  wsOpen = 0;
  /** WebSockets opened. */
  wsOpened = 0;
  /** WebSocket messages received. */
  wsMessagesIn = 0;
  /** WebSocket messages sent. */
  wsMessagesOut = 0;
  /** Payload bytes of WebSocket messages received (as sent on the wire, before inflation). */
  wsBytesIn = 0;
  /** Payload bytes of WebSocket messages sent (before compression). */
  wsBytesOut = 0;
  /** WebSockets closed, by close code (1006: ended without a close frame). */
  readonly wsCloses: Map<string, number> = new Map();
  /** Requests sent to upstream targets (reverse proxy), by `POOL TARGET`. */
  readonly upstreamRequests: Map<string, number> = new Map();
  /** Upstream failures (connect, reset, timeout, bad framing), by `POOL TARGET`. */
  readonly upstreamFailures: Map<string, number> = new Map();
  /** Requests retried on another target after this one failed, by `POOL TARGET`. */
  readonly upstreamRetries: Map<string, number> = new Map();
  /** Whether the target's last active health check passed (1) or not (0), by `POOL TARGET`. */
  readonly upstreamHealthy: Map<string, number> = new Map();
  /** Requests in flight to the target (a gauge), by `POOL TARGET`. */
  readonly upstreamActive: Map<string, number> = new Map();
  /** Seconds from sending a request to the target's response head, summed, by `POOL TARGET`. */
  readonly upstreamSeconds: Map<string, number> = new Map();
  /** Responses by status code. */
  readonly responses: Map<number, number> = new Map();
  /** Requests by mount name, then by method. */
  readonly requests: Map<string, Map<string, number>> = new Map();
  /** Parser rejections by reason code. */
  readonly rejections: Map<string, number> = new Map();
  /** Timeouts by kind. */
  readonly timeouts: Map<TimeoutKind, number> = new Map();
  /** Latency by mount name. */
  readonly latency: Map<string, RouteLatency> = new Map();
  /** Log lines dropped because a log sink could not keep up (set by the logger's owner). */
  logLinesDropped = 0;
  /**
   * Status lists that layers above attach by name (automatic HTTPS: `"acme"`, one entry a
   * certificate name): plain data, copied across isolates and never summed, read back and
   * rendered by the layer that owns their shape (`acme/metrics.ts`). The counters import none.
   */
  readonly status: Map<string, readonly unknown[]> = new Map();

  /** Counts a request for `mount` with `method`. */
  countRequest(mount: string, method: string): void {
    let byMethod = this.requests.get(mount);
    if (byMethod === undefined) {
      byMethod = new Map();
      this.requests.set(mount, byMethod);
    }
    byMethod.set(method, (byMethod.get(method) ?? 0) + 1);
  }

  /**
   * The entry of the Python app `name`, made on first use; each pool that counts into it takes it
   * once and gives it back with {@linkcode Stats.releasePythonApp}.
   */
  takePythonApp(name: string): PythonAppStats {
    let app = this.pythonApps.get(name);
    if (app === undefined) this.pythonApps.set(name, app = new PythonAppStats());
    app.pools++;
    return app;
  }

  /** A pool of `name` stopped: its entry goes once no pool counts into it (an app a reload removed). */
  releasePythonApp(name: string, app: PythonAppStats): void {
    if (--app.pools <= 0 && this.pythonApps.get(name) === app) this.pythonApps.delete(name);
  }

  /** The isolate's number under `--workers N` (reported as `worker` in `/_metrics`' `per_worker`). */
  worker = 0;

  /** A structured-cloneable copy, for sending to another isolate. */
  snapshot(): StatsSnapshot {
    const {
      latency,
      requests,
      responses,
      rejections,
      timeouts,
      wsgiRestarts,
      wsCloses,
      h2ResetsSent,
      h2Goaways,
      h2Limits,
      upstreamRequests,
      upstreamFailures,
      upstreamRetries,
      upstreamHealthy,
      upstreamActive,
      upstreamSeconds,
      h3Errors,
      h3Goaways,
      h3Limits,
      pythonApps,
      ...plain
    } = this;
    return {
      ...plain,
      h2ResetsSent: [...h2ResetsSent],
      h2Goaways: [...h2Goaways],
      h2Limits: [...h2Limits],
      upstreamRequests: [...upstreamRequests],
      upstreamFailures: [...upstreamFailures],
      upstreamRetries: [...upstreamRetries],
      upstreamHealthy: [...upstreamHealthy],
      upstreamActive: [...upstreamActive],
      upstreamSeconds: [...upstreamSeconds],
      h3Errors: [...h3Errors],
      h3Goaways: [...h3Goaways],
      h3Limits: [...h3Limits],
      wsgiRestarts: [...wsgiRestarts],
      pythonApps: [...pythonApps].map(([name, app]) => [name, app.snapshot()]),
      wsCloses: [...wsCloses],
      requests: [...requests].map(([m, byMethod]) => [m, [...byMethod]]),
      responses: [...responses],
      rejections: [...rejections],
      timeouts: [...timeouts],
      latency: [...latency].map(([m, r]) => [m, {
        count: r.count,
        sumSeconds: r.sumSeconds,
        buckets: [...r.buckets],
        histogram: hdr.encodeIntoCompressedBase64(r.histogram as hdr.Histogram),
      }]),
    };
  }

  /** Rebuilds counters from a {@linkcode Stats.snapshot}. */
  static fromSnapshot(s: StatsSnapshot): Stats {
    const out = new Stats();
    const {
      latency,
      requests,
      responses,
      rejections,
      timeouts,
      wsgiRestarts,
      wsCloses,
      h2ResetsSent,
      h2Goaways,
      h2Limits,
      upstreamRequests,
      upstreamFailures,
      upstreamRetries,
      upstreamHealthy,
      upstreamActive,
      upstreamSeconds,
      h3Errors,
      h3Goaways,
      h3Limits,
      pythonApps,
      ...plain
    } = s;
    Object.assign(out, plain);
    const maps: Array<[unknown, Map<string, number>]> = [
      [h2ResetsSent, out.h2ResetsSent],
      [h2Goaways, out.h2Goaways],
      [h2Limits, out.h2Limits],
      [upstreamRequests, out.upstreamRequests],
      [upstreamFailures, out.upstreamFailures],
      [upstreamRetries, out.upstreamRetries],
      [upstreamHealthy, out.upstreamHealthy],
      [upstreamActive, out.upstreamActive],
      [upstreamSeconds, out.upstreamSeconds],
      [h3Errors, out.h3Errors],
      [h3Goaways, out.h3Goaways],
      [h3Limits, out.h3Limits],
    ];
    for (const [list, map] of maps) {
      for (const [k, v] of (list as Array<[string, number]> | undefined) ?? []) {
        map.set(k, v);
      }
    }
    for (const [k, v] of (wsgiRestarts as Array<[string, number]> | undefined) ?? []) {
      out.wsgiRestarts.set(k, v);
    }
    for (const [name, app] of pythonApps ?? []) out.pythonApps.set(name, PythonAppStats.fromSnapshot(app));
    for (const [k, v] of (wsCloses as Array<[string, number]> | undefined) ?? []) out.wsCloses.set(k, v);
    for (const [m, byMethod] of requests) out.requests.set(m, new Map(byMethod));
    for (const [k, v] of responses) out.responses.set(k, v);
    for (const [k, v] of rejections) out.rejections.set(k, v);
    for (const [k, v] of timeouts) out.timeouts.set(k, v);
    for (const [m, r] of latency) {
      const route = new RouteLatency();
      route.count = r.count;
      route.sumSeconds = r.sumSeconds;
      r.buckets.forEach((n, i) => route.buckets[i] = n);
      route.histogram.add(hdr.decodeFromCompressedBase64(r.histogram));
      out.latency.set(m, route);
    }
    return out;
  }

  /** Records a finished request (`times` of them, of the same duration). */
  observe(mount: string, ms: number, times = 1): void {
    let route = this.latency.get(mount);
    if (route === undefined) {
      route = new RouteLatency();
      this.latency.set(mount, route);
    }
    route.record(ms, times);
  }
}
