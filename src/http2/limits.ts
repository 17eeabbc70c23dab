/**
 * HTTP/2's limits and their defaults, beside hyper's (Deno.serve) and Go's: how many streams,
 * how large the windows, and how many of each flood-prone frame a connection may send per
 * period before it is sent GOAWAY `ENHANCE_YOUR_CALM`.
 *
 * @module
 */

/** The limits one HTTP/2 connection enforces. */
export interface H2Limits {
  /** SETTINGS_MAX_CONCURRENT_STREAMS (hyper 200, Go 250). */
  maxConcurrentStreams: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE: the request body a stream may have in flight (hyper: 1 MiB). */
  streamWindow: number;
  /** The connection's receive window: twice a stream's, so one stalled stream never holds the rest. */
  connectionWindow: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE (ferry's `--max-header-bytes`). */
  maxHeaderListSize: number;
  /** CONTINUATION frames one header block may take. */
  maxContinuations: number;
  /** Stream resets (by the client, or by the server for the client's errors) per period. */
  maxResets: number;
  /** PINGs per period. */
  maxPings: number;
  /** SETTINGS frames per period. */
  maxSettings: number;
  /** Empty DATA and CONTINUATION frames per period. */
  maxEmptyFrames: number;
  /** Control frames queued for a client that does not read, before it is dropped (Go: 10,000). */
  maxQueuedControl: number;
  /**
   * Response bytes queued for the client at most: past it a writer waits for the socket, so a
   * client that does not read holds its handlers (and its stream slots), not the server's memory.
   */
  maxQueuedBytes: number;
  /** The period of the flood budgets, in ms. */
  floodPeriodMs: number;
}

/** The defaults. */
export const LIMITS: Readonly<H2Limits> = {
  maxConcurrentStreams: 128,
  streamWindow: 1 << 20,
  connectionWindow: 2 << 20,
  maxHeaderListSize: 16 * 1024,
  maxContinuations: 64,
  maxResets: 400,
  maxPings: 500,
  maxSettings: 500,
  maxEmptyFrames: 500,
  maxQueuedControl: 2000,
  maxQueuedBytes: 512 * 1024,
  floodPeriodMs: 10_000,
};
