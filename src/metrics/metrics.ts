/**
 * `/_metrics`: the server's counters as JSON, or in the Prometheus text exposition format 0.0.4
 * (`?format=prometheus`, or `Accept: text/plain`), for clients the allow-list admits.
 *
 * @module
 */

import { acmeJson, type AcmeNameStatus, acmePrometheus, acmeStatusOf } from "../acme/metrics.ts";
import type { Handler } from "../http/dispatch.ts";
import type { ServerRequest } from "../http/request.ts";
import type { ResponseWriter } from "../http/writer.ts";
import { STATUS } from "../http/status.ts";
import { VERSION } from "../version.ts";
import type { AllowList } from "../net/cidr.ts";
import { LATENCY_BUCKETS, newLatencyHistogram, type Stats } from "../stats.ts";
import { TEXT_PLAIN } from "../http/error_page.ts";
import {
  type Counter,
  COUNTERS,
  LABELLED_COUNTERS,
  type LabelledCounter,
  labelledJson,
  pythonAlias,
  setPath,
  total,
  totals,
} from "./counters.ts";
import { processSamples } from "./process.ts";
import { type AppSample, pythonAppFamily, pythonAppSamples, pythonAppsJson } from "./python_apps.ts";
import { OPEN_FDS } from "./open_fds.ts";
import { probedProcess } from "../process_probe.ts";

/** Live values that are not counters. */
export interface Gauges {
  /** Open connections. */
  connectionsActive: number;
}

/** Options of {@linkcode metricsHandler}. */
export interface MetricsOptions {
  /** The counters (one set, or one per isolate to be summed). */
  stats: () => Stats[] | Promise<Stats[]>;
  /** Who may read the metrics (CIDR list). */
  allow: AllowList;
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** Requests as `"mount method"` → count, summed over isolates. */
function requestCounts(all: Stats[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of all) {
    for (const [mount, byMethod] of s.requests) {
      for (const [method, n] of byMethod) {
        out.set(`${mount} ${method}`, (out.get(`${mount} ${method}`) ?? 0) + n);
      }
    }
  }
  return out;
}

/**
 * The JSON document: at least `requests_total`, `responses` (by status), `connections_active`,
 * `routes` (per mount: count and p50/p95/p99 in ms) and `errors` (by class).
 */
export function metricsJson(all: Stats[]): Record<string, unknown> {
  const routes: Record<string, unknown> = {};
  const mounts = new Set(all.flatMap((s) => [...s.latency.keys()]));
  const requestsByMount = requestCounts(all);
  for (const mount of [...mounts].sort()) {
    const parts = all.map((s) => s.latency.get(mount)).filter((r) => r !== undefined);
    // Percentiles of several isolates: their histograms are merged into one.
    const merged = newLatencyHistogram();
    for (const p of parts) merged.add(p!.histogram);
    const count = parts.reduce((n, p) => n + p!.count, 0);
    const methods: Record<string, number> = {};
    for (const [key, n] of requestsByMount) {
      const [m, method] = key.split(" ");
      if (m === mount) methods[method] = n;
    }
    routes[mount] = {
      count,
      p50_ms: round3(merged.getValueAtPercentile(50) / 1000),
      p95_ms: round3(merged.getValueAtPercentile(95) / 1000),
      p99_ms: round3(merged.getValueAtPercentile(99) / 1000),
      methods,
    };
  }
  const doc: Record<string, unknown> = {
    version: VERSION,
    uptime_s: Math.round((Date.now() - Math.min(...all.map((s) => s.startedAt))) / 1000),
    workers: all.length,
    per_worker: all.length > 1
      ? all.map((s) => ({
        worker: s.worker,
        requests_total: s.requestsTotal,
        connections_active: s.connectionsActive,
        connections_total: s.connectionsTotal,
      }))
      : undefined,
  };
  for (const c of COUNTERS) {
    const v = total(all, c.field);
    setPath(doc, c.json, v);
    const alias = pythonAlias(c.json);
    if (alias !== undefined) setPath(doc, alias, v);
  }
  for (const c of LABELLED_COUNTERS) {
    const v = labelledJson(c, totals(all, c.field));
    setPath(doc, c.json, v);
    const alias = pythonAlias(c.json);
    if (alias !== undefined) setPath(doc, alias, v);
  }
  // Each Python app's own figures; under `wsgi` too, which stays the same as `python`.
  const apps = pythonAppsJson(all);
  setPath(doc, "python.apps", apps);
  setPath(doc, "wsgi.apps", apps);
  doc.routes = routes;
  const acme = acmeOf(all);
  if (acme.length > 0) doc.acme = acmeJson(acme);
  return doc;
}

/** Escapes a label value (backslash, double quote, line feed). */
function label(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Formats a sample value as Prometheus expects. */
function num(n: number): string {
  if (n === Infinity) return "+Inf";
  if (Number.isNaN(n)) return "NaN";
  return String(n);
}

/** The Prometheus text exposition format, version 0.0.4. */
export function metricsPrometheus(all: Stats[]): string {
  const lines: string[] = [];
  const family = (name: string, type: string, help: string) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  };
  const sample = (name: string, labels: Record<string, string>, value: number) => {
    const l = Object.entries(labels).map(([k, v]) => `${k}="${label(v)}"`).join(",");
    lines.push(`${name}${l ? `{${l}}` : ""} ${num(value)}`);
  };

  family("ferry_build_info", "gauge", "Build information; the value is always 1.");
  sample("ferry_build_info", { version: VERSION }, 1);
  family("ferry_uptime_seconds", "gauge", "Seconds since the server started.");
  sample(
    "ferry_uptime_seconds",
    {},
    Math.round((Date.now() - Math.min(...all.map((s) => s.startedAt))) / 1000),
  );
  for (const p of processSamples()) {
    family(p.name, p.type, p.help);
    sample(p.name, {}, p.value);
  }
  family("ferry_requests_total", "counter", "Requests by mount and method.");
  for (const [key, v] of [...requestCounts(all)].sort()) {
    const [mount, method] = key.split(" ");
    sample("ferry_requests_total", { mount, method }, v);
  }
  const counters = (list: readonly Counter[], name: (c: Counter) => string | undefined) => {
    let last = "";
    for (const c of list) {
      const prom = name(c);
      if (prom === undefined) continue;
      if (prom !== last) family(prom, c.kind, c.help);
      last = prom;
      sample(prom, c.labels ?? {}, total(all, c.field));
    }
  };
  const labelled = (list: readonly LabelledCounter[], name: (c: LabelledCounter) => string | undefined) => {
    for (const c of list) {
      const prom = name(c);
      if (prom === undefined) continue;
      family(prom, c.kind ?? "counter", c.help);
      for (const [k, v] of [...totals(all, c.field)].sort((a, b) => a[0].localeCompare(b[0]))) {
        const sp = c.label2 !== undefined ? k.indexOf(" ") : -1;
        sample(
          prom,
          sp < 0 ? { [c.label]: k } : { [c.label]: k.slice(0, sp), [c.label2!]: k.slice(sp + 1) },
          v,
        );
      }
    }
  };
  counters(COUNTERS, (c) => c.prom);
  labelled(LABELLED_COUNTERS, (c) => c.prom);
  // The Python gateway's families again under their ferry_python_ names (see pythonAlias).
  counters(COUNTERS, (c) => pythonAlias(c.prom));
  labelled(LABELLED_COUNTERS, (c) => pythonAlias(c.prom));
  // Each Python app's own figures, in families of their own (python_apps.ts): a sum over a family
  // never counts an app twice.
  const perApp = new Set<string>();
  const appSamples = (prom: string | undefined, kind: string, help: string, samples: AppSample[]) => {
    if (prom === undefined || samples.length === 0) return;
    if (!perApp.has(prom)) family(prom, kind, `${help} By Python app.`);
    perApp.add(prom);
    for (const [labels, v] of samples) sample(prom, labels, v);
  };
  for (const c of COUNTERS) {
    appSamples(pythonAppFamily(c.prom), c.kind, c.help, pythonAppSamples(all, c.field, c.labels));
  }
  for (const c of LABELLED_COUNTERS) {
    appSamples(
      pythonAppFamily(c.prom),
      c.kind ?? "counter",
      c.help,
      pythonAppSamples(all, c.field, {}, c.label),
    );
  }

  family(
    "ferry_request_duration_seconds",
    "histogram",
    "Time from request head to finished response, by mount.",
  );
  const mounts = [...new Set(all.flatMap((s) => [...s.latency.keys()]))].sort();
  for (const mount of mounts) {
    const parts = all.map((s) => s.latency.get(mount)).filter((r) => r !== undefined);
    let cumulative = 0;
    for (let i = 0; i <= LATENCY_BUCKETS.length; i++) {
      cumulative += parts.reduce((n, p) => n + p!.buckets[i], 0);
      const le = i < LATENCY_BUCKETS.length ? num(LATENCY_BUCKETS[i]) : "+Inf";
      sample("ferry_request_duration_seconds_bucket", { mount, le }, cumulative);
    }
    sample("ferry_request_duration_seconds_sum", { mount }, parts.reduce((n, p) => n + p!.sumSeconds, 0));
    sample("ferry_request_duration_seconds_count", { mount }, parts.reduce((n, p) => n + p!.count, 0));
  }
  return lines.join("\n") + "\n" + acmePrometheus(acmeOf(all));
}

/** The automatic-HTTPS state: every isolate holds the same copy; the first non-empty one is it. */
function acmeOf(all: Stats[]): AcmeNameStatus[] {
  return all.map(acmeStatusOf).find((l) => l.length > 0) ?? [];
}

/** Whether the request wants the Prometheus format. */
function wantsPrometheus(req: ServerRequest): boolean {
  const format = /(?:^|&)format=([^&]*)/.exec(req.query)?.[1];
  if (format !== undefined) return format === "prometheus";
  const accept = req.headers.get("accept") ?? "";
  return /text\/plain|application\/openmetrics-text/.test(accept) && !/application\/json/.test(accept);
}

/**
 * The `/_metrics` handler.
 *
 * @example
 * ```ts ignore
 * const handler = metricsHandler({ stats: () => [server.stats], allow: AllowList.parse(LOOPBACK) });
 * ```
 */
export function metricsHandler(options: MetricsOptions): Handler {
  return async function metrics(req: ServerRequest, res: ResponseWriter): Promise<void> {
    if (!options.allow.allows(req.clientAddr)) {
      return await res.send(STATUS.Forbidden, [TEXT_PLAIN], "Forbidden\n");
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      return await res.send(STATUS.MethodNotAllowed, [["Allow", "GET, HEAD"]], "");
    }
    const all = await options.stats();
    // process_open_fds without /proc: a child counts them, at most once a second.
    if (probedProcess()?.procReadable === false) await OPEN_FDS.refresh();
    const noStore: [string, string] = ["Cache-Control", "no-store"];
    if (wantsPrometheus(req)) {
      return await res.send(
        STATUS.OK,
        [["Content-Type", "text/plain; version=0.0.4; charset=utf-8"], noStore],
        metricsPrometheus(all),
      );
    }
    await res.send(
      STATUS.OK,
      [["Content-Type", "application/json"], noStore],
      JSON.stringify(metricsJson(all), null, 2) + "\n",
    );
  };
}
