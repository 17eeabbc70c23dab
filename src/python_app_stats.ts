/**
 * One Python app's share of the gateway counters. A config can mount several Python apps, each
 * behind its own pool; each pool counts into its app's entry here as well as into the server's
 * totals ({@linkcode PYTHON_APP_FIELDS} of `Stats`, same names), so `/_metrics` can show both.
 *
 * @module
 */

/** The numeric `Stats` fields a Python app also keeps for itself (gauges and counters). */
export const PYTHON_APP_FIELDS = [
  "wsgiWorkers",
  "wsgiBusy",
  "wsgiIdle",
  "wsgiQueued",
  "wsgiBadGateway",
  "wsgiGatewayTimeout",
  "wsgiRefused",
  "wsgiRetried",
] as const;

/** One of {@linkcode PYTHON_APP_FIELDS}. */
export type PythonAppField = typeof PYTHON_APP_FIELDS[number];

/** The fields of {@linkcode PYTHON_APP_FIELDS} that only grow (the rest are gauges). */
export type PythonAppCounter = "wsgiBadGateway" | "wsgiGatewayTimeout" | "wsgiRefused" | "wsgiRetried";

/** Whether `field` is one of {@linkcode PYTHON_APP_FIELDS}. */
export function isPythonAppField(field: string): field is PythonAppField {
  return (PYTHON_APP_FIELDS as readonly string[]).includes(field);
}

/** {@linkcode PythonAppStats} as plain data, for another isolate. */
export type PythonAppSnapshot = Record<PythonAppField, number> & {
  /** Workers replaced, by cause. */
  wsgiRestarts: Array<[string, number]>;
};

/**
 * The counters of one Python app, named as the server-wide fields they add up to.
 *
 * @example
 * ```ts
 * import { PythonAppStats } from "./python_app_stats.ts";
 * const blog = new PythonAppStats();
 * blog.wsgiBadGateway++;
 * console.log(blog.snapshot().wsgiBadGateway); // 1
 * ```
 */
export class PythonAppStats {
  /** Workers alive (a gauge). */
  wsgiWorkers = 0;
  /** Workers serving a request (a gauge). */
  wsgiBusy = 0;
  /** Workers waiting for a request (a gauge). */
  wsgiIdle = 0;
  /** Requests waiting for a free worker of this app (a gauge). */
  wsgiQueued = 0;
  /** 502s of this app. */
  wsgiBadGateway = 0;
  /** 504s of this app. */
  wsgiGatewayTimeout = 0;
  /** 503s of this app (no worker free within the queue bounds). */
  wsgiRefused = 0;
  /** Requests handed to another worker of this app after one died before beginning. */
  wsgiRetried = 0;
  /** Workers replaced, by cause. */
  readonly wsgiRestarts: Map<string, number> = new Map();
  /** Pools counting into this entry (while a reload replaces an app, its old and new pools both do). */
  pools = 0;

  /** A structured-cloneable copy. */
  snapshot(): PythonAppSnapshot {
    const out = { wsgiRestarts: [...this.wsgiRestarts] } as PythonAppSnapshot;
    for (const f of PYTHON_APP_FIELDS) out[f] = this[f];
    return out;
  }

  /** Rebuilds an entry from a {@linkcode PythonAppStats.snapshot}. */
  static fromSnapshot(s: PythonAppSnapshot): PythonAppStats {
    const out = new PythonAppStats();
    for (const f of PYTHON_APP_FIELDS) out[f] = s[f] ?? 0;
    for (const [k, v] of s.wsgiRestarts ?? []) out.wsgiRestarts.set(k, v);
    return out;
  }
}
