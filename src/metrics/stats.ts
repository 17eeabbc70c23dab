/**
 * The server's counters: what the engine counts as it works. The metrics module renders them.
 *
 * @module
 */

/** Kinds of timeout, for {@linkcode Stats.timeouts}. */
export type TimeoutKind = "header" | "body" | "keepalive" | "write" | "handshake";

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
  /** Requests whose head parsed. */
  requestsTotal = 0;
  /** Requests that arrived on a connection that had served one before. */
  keepAliveReuse = 0;
  /** Request body bytes read. */
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
  /** Responses by status code. */
  readonly responses: Map<number, number> = new Map();
  /** Requests by mount name and method: `"static GET"`. */
  readonly requests: Map<string, number> = new Map();
  /** Parser rejections by reason code. */
  readonly rejections: Map<string, number> = new Map();
  /** Timeouts by kind. */
  readonly timeouts: Map<TimeoutKind, number> = new Map();
}
