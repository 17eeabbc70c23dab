/**
 * `/_health` and `/_ready` for load balancers: alive is 200 while the process runs; ready is 200
 * while the server takes new work and 503 from the moment a drain begins (with `--drain-delay`,
 * while it still serves, so the balancer takes it out first).
 *
 * @module
 */

import type { Mount } from "./http/dispatch.ts";
import { STATUS } from "./http/status.ts";
import { TEXT_PLAIN } from "./http/error_page.ts";

/**
 * The two mounts; `ready` tells whether the server takes new work.
 *
 * @example
 * ```ts ignore
 * const mounts = [...healthMounts(() => !server.draining), ...others];
 * ```
 */
export function healthMounts(ready: () => boolean): Mount[] {
  const noStore: [string, string] = ["Cache-Control", "no-store"];
  return [
    {
      name: "health",
      prefix: "/_health",
      handler: (_req, res) => res.send(STATUS.OK, [TEXT_PLAIN, noStore], "ok\n"),
    },
    {
      name: "ready",
      prefix: "/_ready",
      handler: (_req, res) =>
        ready()
          ? res.send(STATUS.OK, [TEXT_PLAIN, noStore], "ready\n")
          : res.send(STATUS.ServiceUnavailable, [TEXT_PLAIN, noStore, ["Retry-After", "5"]], "draining\n"),
    },
  ];
}
