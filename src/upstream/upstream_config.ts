/**
 * An upstream pool as the config file writes it (the `upstreams` key, or a route's inline
 * `"proxy": { "to": [...] }`), its defaults, and its check: every problem is reported with its
 * JSON path below the pool, as the config's validation reports them.
 *
 * @module
 */

import { parseTarget, type TargetAddress } from "./target.ts";

/** How a pool picks a target for a request. */
export type Policy = "round_robin" | "least_conn" | "ip_hash" | "first";

/** The policies, in the order `--help` and errors list them. */
export const POLICIES: readonly Policy[] = ["round_robin", "least_conn", "ip_hash", "first"];

/** Active health checks of an upstream's targets. */
export interface HealthConfig {
  /** Path requested with GET. */
  path: string;
  /** Seconds between checks of a target. @default 5 */
  interval?: number;
  /** Seconds a check may take. @default 2 */
  timeout?: number;
  /** The status a healthy target answers; 0: any 2xx. @default 0 */
  status?: number;
}

/** One upstream pool, as written in the config (`upstreams.NAME`). */
export interface UpstreamConfig {
  /** Targets: `HOST:PORT` or `unix//PATH`. */
  targets: string[];
  /** How a target is picked. @default "round_robin" */
  policy?: Policy;
  /** Active health checks; none when absent. */
  health?: HealthConfig;
  /** Failures within `fail_duration` that mark a target down. @default 1 */
  max_fails?: number;
  /** Seconds a failure counts against its target; 0: passive checks off. @default 10 */
  fail_duration?: number;
  /** Seconds within which an idempotent request is tried on other targets; 0: no retry. @default 0 */
  try_duration?: number;
  /** Seconds to connect and to receive a response head. */
  timeouts?: { connect?: number; header?: number };
  /** Idle connections kept per target; 0: none. @default 128 */
  keepalive?: number;
  /** Seconds an idle kept connection lives. @default 60 */
  keepalive_idle?: number;
}

/** A pool's settings with every default applied. */
export interface UpstreamSettings {
  /** The pool's name (metrics, logs, the admin API). */
  name: string;
  /** The targets, parsed. */
  targets: TargetAddress[];
  /** How a target is picked. */
  policy: Policy;
  /** Active checks (undefined: off); seconds. */
  health: { path: string; interval: number; timeout: number; status: number } | undefined;
  /** Failures within `failDuration` that mark a target down. */
  maxFails: number;
  /** Seconds a failure counts; 0: passive checks off. */
  failDuration: number;
  /** Seconds to keep trying idempotent requests on other targets. */
  tryDuration: number;
  /** Seconds to connect. */
  connectTimeout: number;
  /** Seconds to a response head. */
  headerTimeout: number;
  /** Idle connections kept per target. */
  keepalive: number;
  /** Seconds an idle connection is kept. */
  keepaliveIdle: number;
}

/** One problem of an upstream's config: its JSON path below the pool and what is wrong. */
export interface UpstreamProblem {
  /** The path, such as `targets[1]` or `health.interval`. */
  path: string;
  /** What is wrong and what is expected. */
  message: string;
}

const KEYS = [
  "targets",
  "to",
  "policy",
  "health",
  "max_fails",
  "fail_duration",
  "try_duration",
  "timeouts",
  "keepalive",
  "keepalive_idle",
];

/**
 * Checks `raw` (parsed JSON) as an upstream and returns its settings, or the list of problems.
 * `to` is accepted for `targets` (a route's inline form).
 *
 * @example
 * ```ts
 * import { resolveUpstream } from "./upstream_config.ts";
 * const r = resolveUpstream("api", { targets: ["127.0.0.1:9001"], policy: "first" });
 * console.log("settings" in r && r.settings.policy); // "first"
 * ```
 */
export function resolveUpstream(
  name: string,
  raw: unknown,
): { settings: UpstreamSettings } | { problems: UpstreamProblem[] } {
  const problems: UpstreamProblem[] = [];
  const bad = (path: string, message: string) => problems.push({ path, message });
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { problems: [{ path: "", message: "an upstream is an object with targets" }] };
  }
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!KEYS.includes(k)) bad(k, `unknown key; expected one of ${KEYS.join(", ")}`);
  }
  const list = o.targets ?? o.to;
  const targets: TargetAddress[] = [];
  if (!Array.isArray(list) || list.length === 0) {
    bad("targets", "a non-empty list of HOST:PORT or unix//PATH");
  } else {
    list.forEach((t, i) => {
      try {
        if (typeof t !== "string") throw new RangeError("expected a string");
        targets.push(parseTarget(t));
      } catch (e) {
        bad(`targets[${i}]`, (e as Error).message);
      }
    });
  }
  const num = (path: string, v: unknown, dflt: number, min: number, max: number): number => {
    if (v === undefined) return dflt;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) {
      bad(path, `a number from ${min} to ${max}`);
      return dflt;
    }
    return v;
  };
  const policy = o.policy ?? "round_robin";
  if (!POLICIES.includes(policy as Policy)) bad("policy", `one of ${POLICIES.join(", ")}`);
  let health: UpstreamSettings["health"];
  if (o.health !== undefined) {
    const h = o.health as Record<string, unknown>;
    if (typeof h !== "object" || h === null || typeof h.path !== "string" || !h.path.startsWith("/")) {
      bad("health.path", "a path starting with /");
    } else {
      health = {
        path: h.path,
        interval: num("health.interval", h.interval, 5, 0.05, 3600),
        timeout: num("health.timeout", h.timeout, 2, 0.05, 3600),
        status: num("health.status", h.status, 0, 0, 599),
      };
    }
  }
  const t = (o.timeouts ?? {}) as Record<string, unknown>;
  const settings: UpstreamSettings = {
    name,
    targets,
    policy: policy as Policy,
    health,
    maxFails: num("max_fails", o.max_fails, 1, 1, 1000),
    failDuration: num("fail_duration", o.fail_duration, 10, 0, 86400),
    tryDuration: num("try_duration", o.try_duration, 0, 0, 3600),
    connectTimeout: num("timeouts.connect", t.connect, 5, 0.01, 3600),
    headerTimeout: num("timeouts.header", t.header, 60, 0.01, 86400),
    keepalive: num("keepalive", o.keepalive, 128, 0, 10000),
    keepaliveIdle: num("keepalive_idle", o.keepalive_idle, 60, 0.1, 86400),
  };
  return problems.length > 0 ? { problems } : { settings };
}
