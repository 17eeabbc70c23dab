/**
 * The `--proxy PREFIX=TARGET[,TARGET][;KEY=VALUE…]` flag (repeatable): a pool of targets at a URL
 * prefix, with the config's upstream keys after semicolons (`policy=first`, `health=/health`,
 * `health_interval=1`, `try_duration=5`, `header_timeout=30`, …), until a config file says it.
 *
 * @module
 */

import type { Rule } from "../option_spec.ts";
import { POLICIES, resolveUpstream, type UpstreamConfig } from "./upstream_config.ts";

/** One `--proxy` route. */
export interface ProxyRoute {
  /** URL prefix (ending in `/`: the whole tree; else that path only). */
  prefix: string;
  /** The pool, as the config's `upstreams` entries are written. */
  upstream: UpstreamConfig;
}

const NUMBERS: Record<string, (u: UpstreamConfig, n: number) => void> = {
  health_interval: (u, n) => u.health!.interval = n,
  health_timeout: (u, n) => u.health!.timeout = n,
  health_status: (u, n) => u.health!.status = n,
  max_fails: (u, n) => u.max_fails = n,
  fail_duration: (u, n) => u.fail_duration = n,
  try_duration: (u, n) => u.try_duration = n,
  connect_timeout: (u, n) => (u.timeouts ??= {}).connect = n,
  header_timeout: (u, n) => (u.timeouts ??= {}).header = n,
  keepalive: (u, n) => u.keepalive = n,
};

const EXPECTED =
  "PREFIX=TARGET[,TARGET][;key=value…], like /api/=127.0.0.1:9001,unix//run/app.sock;policy=first";

/**
 * `--proxy`'s text as a route; throws RangeError saying what is wrong.
 *
 * @example
 * ```ts
 * import { parseProxyRoute } from "./proxy_flag.ts";
 * const r = parseProxyRoute("/api/=127.0.0.1:9001,127.0.0.1:9002;policy=first");
 * console.log(r.prefix, r.upstream.targets.length, r.upstream.policy); // /api/ 2 first
 * ```
 */
export function parseProxyRoute(text: string): ProxyRoute {
  const [main, ...settings] = text.split(";");
  const eq = main.indexOf("=");
  const prefix = main.slice(0, eq);
  if (eq < 0 || !prefix.startsWith("/")) throw new RangeError(`--proxy ${text}: expected ${EXPECTED}`);
  const upstream: UpstreamConfig = { targets: main.slice(eq + 1).split(",").filter((t) => t !== "") };
  for (const kv of settings) {
    const at = kv.indexOf("=");
    const key = kv.slice(0, at).trim();
    const value = kv.slice(at + 1).trim();
    if (key === "policy") upstream.policy = value as UpstreamConfig["policy"];
    else if (key === "health") upstream.health = { ...upstream.health, path: value };
    else if (key in NUMBERS) {
      const n = Number(value);
      if (value === "" || !Number.isFinite(n)) {
        throw new RangeError(`--proxy ${text}: ${key} must be a number`);
      }
      if (key.startsWith("health_")) upstream.health ??= { path: "/" };
      NUMBERS[key](upstream, n);
    } else {
      throw new RangeError(
        `--proxy ${text}: unknown setting ${JSON.stringify(key)}; known: policy (${
          POLICIES.join("|")
        }), health, ${Object.keys(NUMBERS).join(", ")}`,
      );
    }
  }
  const problem = routeProblem({ prefix, upstream });
  if (problem !== undefined) throw new RangeError(`--proxy ${text}: ${problem}`);
  return { prefix, upstream };
}

function routeProblem(r: ProxyRoute): string | undefined {
  if (typeof r.prefix !== "string" || !r.prefix.startsWith("/")) {
    return `the prefix must start with /; ${EXPECTED}`;
  }
  const resolved = resolveUpstream(r.prefix, r.upstream);
  if ("problems" in resolved) return resolved.problems.map((p) => `${p.path}: ${p.message}`).join("; ");
  return undefined;
}

/** The rule of `--proxy`: each flag adds one route. */
export const proxyRoutesRule: Rule<ProxyRoute[]> = {
  arg: "<prefix=targets>",
  expected: EXPECTED,
  parse: (t) => [parseProxyRoute(t)],
  problem: (v) => {
    if (!Array.isArray(v)) return "must be a list of { prefix, upstream }";
    for (const r of v) {
      const p = typeof r === "object" && r !== null ? routeProblem(r) : "each route is { prefix, upstream }";
      if (p !== undefined) return p;
    }
    return undefined;
  },
  show: (v) => v.map((r) => `${r.prefix}=${r.upstream.targets.join(",")}`).join(" "),
};
