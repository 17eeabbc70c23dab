/**
 * `--redirect-http`: the plain-HTTP listener answers every request with `308` to the same target
 * on the HTTPS listener. A module mounted like the others, in front of them on plain connections.
 *
 * @module
 */

import type { Handler } from "./http/dispatch.ts";
import { stripPort } from "./http/authority.ts";
import { STATUS } from "./http/status.ts";
import { TEXT_PLAIN } from "./http/error_page.ts";

/**
 * The redirecting handler; `httpsPort` is read per request (the HTTPS port may be picked at listen
 * time).
 *
 * @example
 * ```ts ignore
 * const mount = { name: "redirect", prefix: "/", handler: redirectToHttps("127.0.0.1", () => 8443) };
 * ```
 */
export function redirectToHttps(listenHost: string, httpsPort: () => number): Handler {
  return async function redirectToHttps(req, res): Promise<void> {
    // The host comes from the validated Host (or target authority); never echoed unchecked.
    const host = req.host !== "" ? req.host : (listenHost.includes(":") ? `[${listenHost}]` : listenHost);
    const location = httpsLocation(host, httpsPort(), req.form === "asterisk" ? "/" : req.path, req.query);
    await res.send(
      STATUS.PermanentRedirect,
      [["Location", location], TEXT_PLAIN],
      `Moved to ${location}\n`,
    );
  };
}

/**
 * Where an HTTP request is redirected: `https://host[:port]path[?query]`, the port left out when
 * it is 443 (RFC 9110 §4.2.2).
 *
 * @example
 * ```ts
 * import { httpsLocation } from "./redirect.ts";
 * console.log(httpsLocation("example.org:8080", 443, "/a", "b=1")); // "https://example.org/a?b=1"
 * ```
 */
export function httpsLocation(authority: string, port: number, path: string, query: string): string {
  return `https://${stripPort(authority)}${port === 443 ? "" : ":" + port}${path}${
    query !== "" ? "?" + query : ""
  }`;
}
