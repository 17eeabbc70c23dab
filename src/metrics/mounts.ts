/**
 * The metrics mounts every site keeps: `/_metrics` (JSON or Prometheus) and `/_dashboard/`,
 * readable from `--metrics-allow` addresses; 404 with `--no-metrics`.
 *
 * @module
 */

import type { Handler, Mount } from "../http/dispatch.ts";
import type { ResolvedOptions } from "../server_options.ts";
import type { Stats } from "../stats.ts";
import { AllowList } from "../net/cidr.ts";
import { metricsHandler } from "./metrics.ts";
import { dashboardHandler } from "./dashboard.ts";
import { TEXT_PLAIN } from "../http/error_page.ts";

/** A handler that answers 404: the place of a module that is switched off. */
const off: Handler = async function notFound(_req, res) {
  await res.send(404, [TEXT_PLAIN], "Not Found\n");
};

/**
 * `/_metrics` and `/_dashboard/` over `stats` (or what `source` gives: one set per isolate).
 *
 * @example
 * ```ts ignore
 * const mounts = metricsMounts(resolveOptions({}), stats);
 * ```
 */
export function metricsMounts(
  o: ResolvedOptions,
  stats: Stats,
  source: () => Stats[] | Promise<Stats[]> = () => [stats],
): Mount[] {
  const allow = AllowList.parse(o.metricsAllow);
  return [
    {
      name: "metrics",
      prefix: "/_metrics",
      handler: o.metrics ? metricsHandler({ stats: source, allow }) : off,
    },
    {
      name: "dashboard",
      prefix: "/_dashboard/",
      handler: o.metrics ? dashboardHandler({ stats: source, allow }) : off,
    },
  ];
}
