/**
 * ferry's version, shown by `--version` and in the metrics.
 *
 * @module
 */

/** The version. */
export const VERSION = "0.1.0";
