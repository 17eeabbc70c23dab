/**
 * The Python counters by app: each Python app (a config can mount several) counts into its own
 * entry of `Stats.pythonApps` besides the server's totals. In the JSON document they are
 * `python.apps.NAME.*` (the keys of `python.*`); in the Prometheus text, families of their own
 * with an `app` label (`ferry_python_app_worker_processes{app="blog"} 2` beside the total
 * `ferry_python_worker_processes 3`), so that summing a family never counts an app twice. Summed
 * over `--workers` isolates, like every counter.
 *
 * @module
 */

import type { Stats } from "../stats.ts";
import { isPythonAppField, type PythonAppField } from "../python_app_stats.ts";
import { COUNTERS, LABELLED_COUNTERS, pythonAlias } from "./counters.ts";

/** The names of the Python apps of `all`, sorted. */
export function pythonAppNames(all: readonly Stats[]): string[] {
  return [...new Set(all.flatMap((s) => [...s.pythonApps.keys()]))].sort();
}

/** `field` of the app `name`, summed over `all`. */
function appTotal(all: readonly Stats[], name: string, field: PythonAppField): number {
  let n = 0;
  for (const s of all) n += s.pythonApps.get(name)?.[field] ?? 0;
  return n;
}

/** The restarts by cause of the app `name`, summed over `all`. */
function appRestarts(all: readonly Stats[], name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of all) {
    for (const [k, v] of s.pythonApps.get(name)?.wsgiRestarts ?? []) out.set(k, (out.get(k) ?? 0) + v);
  }
  return out;
}

/** The key a `wsgi.X` JSON path has under `python.apps.NAME`: `X`. */
function appKey(json: string): string {
  return json.slice(json.indexOf(".") + 1);
}

/**
 * `python.apps`: from each app's name to its figures, under the keys `python.*` has (`workers`,
 * `busy`, `bad_gateway`, `restarts`, …).
 *
 * @example
 * ```ts
 * import { Stats } from "../stats.ts";
 * import { pythonAppsJson } from "./python_apps.ts";
 * const s = new Stats();
 * s.takePythonApp("blog").wsgiBadGateway++;
 * console.log((pythonAppsJson([s]).blog as Record<string, unknown>).bad_gateway); // 1
 * ```
 */
export function pythonAppsJson(all: readonly Stats[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of pythonAppNames(all)) {
    const app: Record<string, unknown> = {};
    for (const c of COUNTERS) {
      if (isPythonAppField(c.field)) app[appKey(c.json)] = appTotal(all, name, c.field);
    }
    for (const c of LABELLED_COUNTERS) {
      if (c.field === "wsgiRestarts") app[appKey(c.json)] = Object.fromEntries(appRestarts(all, name));
    }
    out[name] = app;
  }
  return out;
}

/**
 * The per-app family of the Python gateway's family `prom` (`ferry_wsgi_X` or its alias
 * `ferry_python_X`): `ferry_python_app_X`; undefined for any other family.
 *
 * @example
 * ```ts
 * import { pythonAppFamily } from "./python_apps.ts";
 * console.log(pythonAppFamily("ferry_wsgi_restarts_total")); // ferry_python_app_restarts_total
 * ```
 */
export function pythonAppFamily(prom: string | undefined): string | undefined {
  if (prom === undefined) return undefined;
  const alias = prom.startsWith("ferry_python_") ? prom : pythonAlias(prom);
  return alias?.replace(/^ferry_python_/, "ferry_python_app_");
}

/** One Prometheus sample: its labels and value. */
export type AppSample = [labels: Record<string, string>, value: number];

/**
 * The per-app samples of the counter `field` (none for a field apps do not keep): the entry's
 * `labels` with `app` first, one sample per app, or per app and key for the restarts.
 */
export function pythonAppSamples(
  all: readonly Stats[],
  field: string,
  labels: Readonly<Record<string, string>> = {},
  label = "cause",
): AppSample[] {
  const out: AppSample[] = [];
  if (isPythonAppField(field)) {
    for (const app of pythonAppNames(all)) out.push([{ app, ...labels }, appTotal(all, app, field)]);
  } else if (field === "wsgiRestarts") {
    for (const app of pythonAppNames(all)) {
      for (const [k, v] of [...appRestarts(all, app)].sort((a, b) => a[0].localeCompare(b[0]))) {
        out.push([{ app, [label]: k }, v]);
      }
    }
  }
  return out;
}
