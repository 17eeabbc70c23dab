/**
 * `/_dashboard`: a live page of request rate, latency percentiles, open connections, responses by
 * status class and per mount, served by ferry itself (the `/_metrics` allow-list applies), and its
 * data at `/_dashboard/data` (cumulative counters; the page turns them into rates).
 *
 * @module
 */

import type { Handler } from "../http/dispatch.ts";
import { STATUS } from "../http/status.ts";
import { VERSION } from "../version.ts";
import type { AllowList } from "../net/cidr.ts";
import { DASHBOARD_HTML } from "./dashboard_page.ts";
import { LATENCY_BUCKETS, type Stats } from "../stats.ts";
import { TEXT_PLAIN } from "../http/error_page.ts";
import { COUNTERS, LABELLED_COUNTERS, total, totals } from "./counters.ts";
import { type AcmeNameStatus, acmeStatusOf } from "../acme/metrics.ts";

/** What the page reads each second. */
export interface DashboardSample {
  /** Wall-clock ms. */
  t: number;
  /** ferry's version. */
  version: string;
  /** Seconds since start. */
  uptime: number;
  /** Requests so far. */
  requests: number;
  /** Open connections. */
  connections: number;
  /** Of those, HTTP/2 connections (the rest are HTTP/1.1). */
  http2: number;
  /** Responses so far by status class (`2xx` …). */
  responses: Record<string, number>;
  /** Upper bounds of the latency buckets, seconds. */
  bounds: readonly number[];
  /** Per mount: requests so far and latency bucket counts (the last is +Inf). */
  mounts: Record<string, { count: number; buckets: number[] }>;
  /** Every counter of the counter table, by its JSON path, with what it counts. */
  counters: Record<string, { value: number; help: string }>;
  /** Automatic HTTPS: which issuer serves each name, its expiry, orders and failures. */
  acme: AcmeNameStatus[];
}

/** Sums `all` (one Stats per isolate) into a {@linkcode DashboardSample}. */
export function dashboardSample(all: Stats[]): DashboardSample {
  const responses: Record<string, number> = {};
  const mounts: Record<string, { count: number; buckets: number[] }> = {};
  for (const s of all) {
    for (const [code, n] of s.responses) {
      const c = `${Math.floor(code / 100)}xx`;
      responses[c] = (responses[c] ?? 0) + n;
    }
    for (const [name, route] of s.latency) {
      const m = mounts[name] ??= { count: 0, buckets: new Array(LATENCY_BUCKETS.length + 1).fill(0) };
      m.count += route.count;
      route.buckets.forEach((n, i) => m.buckets[i] += n);
    }
  }
  return {
    t: Date.now(),
    version: VERSION,
    uptime: Math.round((Date.now() - Math.min(...all.map((s) => s.startedAt))) / 1000),
    requests: all.reduce((n, s) => n + s.requestsTotal, 0),
    connections: all.reduce((n, s) => n + s.connectionsActive, 0),
    http2: all.reduce((n, s) => n + s.h2ConnectionsActive, 0),
    responses,
    bounds: LATENCY_BUCKETS,
    mounts,
    counters: counterValues(all),
    acme: all.map(acmeStatusOf).find((l) => l.length > 0) ?? [],
  };
}

/** Every counter, and every key of every counter by key, with its value and what it counts. */
function counterValues(all: Stats[]): Record<string, { value: number; help: string }> {
  const out: Record<string, { value: number; help: string }> = {};
  for (const c of COUNTERS) out[c.json] = { value: total(all, c.field), help: c.help };
  for (const c of LABELLED_COUNTERS) {
    for (const [k, value] of totals(all, c.field)) out[`${c.json}.${k}`] = { value, help: c.help };
  }
  return out;
}

/** Options of {@linkcode dashboardHandler}. */
export interface DashboardOptions {
  /** The counters (one set, or one per isolate to be summed). */
  stats: () => Stats[] | Promise<Stats[]>;
  /** Who may see the dashboard (the `/_metrics` list). */
  allow: AllowList;
}

/**
 * The `/_dashboard` handler: the page at `/_dashboard` (and `/_dashboard/`), its data at
 * `/_dashboard/data`.
 *
 * @example
 * ```ts ignore
 * const mount = { name: "dashboard", prefix: "/_dashboard", handler: dashboardHandler({ stats, allow }) };
 * ```
 */
export function dashboardHandler(options: DashboardOptions): Handler {
  const noStore: [string, string] = ["Cache-Control", "no-store"];
  return async function dashboard(req, res): Promise<void> {
    if (!options.allow.allows(req.clientAddr)) {
      return await res.send(STATUS.Forbidden, [TEXT_PLAIN], "Forbidden\n");
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      return await res.send(STATUS.MethodNotAllowed, [["Allow", "GET, HEAD"]], "");
    }
    if (req.path === "/_dashboard") {
      return await res.send(STATUS.MovedPermanently, [["Location", "/_dashboard/"]], "");
    }
    if (req.path === "/_dashboard/data") {
      const sample = dashboardSample(await options.stats());
      return await res.send(
        STATUS.OK,
        [["Content-Type", "application/json"], noStore],
        JSON.stringify(sample),
      );
    }
    if (req.path !== "/_dashboard/") {
      return await res.send(STATUS.NotFound, [TEXT_PLAIN], "Not Found\n");
    }
    await res.send(STATUS.OK, [
      ["Content-Type", "text/html; charset=utf-8"],
      noStore,
      [
        "Content-Security-Policy",
        "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
      ],
    ], DASHBOARD_HTML);
  };
}
