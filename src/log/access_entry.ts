/**
 * The access-log record: what the logger and its encoders (`access_json.ts`, `access_text.ts`)
 * share, kept apart so that neither imports the logger.
 *
 * @module
 */

/** One access-log record. */
export interface AccessEntry {
  /** Request start, ms since the epoch. */
  time: number;
  /** Connection id. */
  conn: number;
  /** Request id (also sent as X-Request-Id). */
  id: string;
  /** Client address. */
  remote: string;
  /** Method, or `-` when the head did not parse. */
  method: string;
  /** Request-target as received, or `-`. */
  target: string;
  /** `HTTP/1.1` or `HTTP/1.0`. */
  protocol: string;
  /** Response status. */
  status: number;
  /** Response body bytes. */
  bytes: number;
  /** Duration in milliseconds. */
  ms: number;
  /** User-Agent, if sent. */
  ua?: string;
  /** Referer, if sent. */
  referer?: string;
  /** Whether the connection is TLS. */
  tls: boolean;
  /** `running` or `draining`. */
  phase: string;
  /** Trace id from a W3C traceparent header. */
  trace?: string;
  /** The HTTP/2 stream id (absent for HTTP/1.1). */
  stream?: number;
  /** The upstream target a proxied request went to (absent for others). */
  upstream?: string;
  /** Milliseconds from sending the proxied request to the upstream's response head. */
  upstreamMs?: number;
}
