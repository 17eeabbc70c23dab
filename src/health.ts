/**
 * `/_health` and `/_ready` for load balancers: alive is 200 while the process runs; ready is 200
 * while the server takes new work and 503 from the moment a drain begins (with `--drain-delay`,
 * while it still serves, so the balancer takes it out first).
 *
 * @module
 */

import type { Mount } from "./http1/dispatch.ts";
import { STATUS } from "./http1/status.ts";

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
  const text: [string, string] = ["Content-Type", "text/plain; charset=utf-8"];
  return [
    {
      name: "health",
      prefix: "/_health",
      handler: (_req, res) => res.send(STATUS.OK, [text, noStore], "ok\n"),
    },
    {
      name: "ready",
      prefix: "/_ready",
      handler: (_req, res) =>
        ready()
          ? res.send(STATUS.OK, [text, noStore], "ready\n")
          : res.send(STATUS.ServiceUnavailable, [text, noStore, ["Retry-After", "5"]], "draining\n"),
    },
  ];
}
