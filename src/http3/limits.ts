/**
 * HTTP/3's fixed bounds, besides the options it shares with HTTP/1.1 and HTTP/2
 * (`--max-header-bytes` for a field section before and after decoding, the timeouts) and its
 * own (`--h3-max-streams`).
 *
 * @module
 */

/** The bounds. */
export const H3_LIMITS = {
  /** Frames that do no work (unknown types, empty DATA, QPACK no-ops) a connection may send at first. */
  wasteBase: 1000,
  /** And per request stream it opened. */
  wastePerRequest: 100,
  /** The largest control-stream frame (SETTINGS) kept; a larger one is H3_EXCESSIVE_LOAD. */
  maxControlFrame: 16 * 1024,
} as const;
