/**
 * The two route actions that answer by themselves: `respond` (a fixed status, body and fields)
 * and `redirect` (a `Location`, with the request's path and query when `to` names them).
 *
 * @module
 */

import type { Handler } from "../http/dispatch.ts";
import { PreparedHeaders } from "../http/writer.ts";
import type { RedirectSpec, RespondSpec } from "./spec.ts";

const encoder = new TextEncoder();

/**
 * The `respond` handler: the same answer to every request it gets.
 *
 * @example
 * ```ts ignore
 * const pong = respondHandler({ status: 200, body: "pong", headers: { "Content-Type": "text/plain" } });
 * ```
 */
export function respondHandler(spec: RespondSpec): Handler {
  const status = spec.status ?? 200;
  const fields = Object.entries(spec.headers ?? {});
  if (
    spec.body !== undefined && spec.body !== "" && !fields.some(([n]) => n.toLowerCase() === "content-type")
  ) {
    fields.push(["Content-Type", "text/plain; charset=utf-8"]);
  }
  const headers = new PreparedHeaders(fields);
  const body = encoder.encode(spec.body ?? "");
  return function respond(_req, res) {
    return res.send(status, headers, body);
  };
}

/**
 * The `redirect` handler: `to` with `{path}` and `{query}` (`?` and the query, or nothing)
 * replaced by the request's; status 302 unless given.
 *
 * @example
 * ```ts ignore
 * const moved = redirectHandler({ to: "https://new.test{path}{query}", status: 301 });
 * ```
 */
export function redirectHandler(spec: RedirectSpec): Handler {
  const status = spec.status ?? 302;
  const dynamic = spec.to.includes("{path}") || spec.to.includes("{query}");
  return function redirect(req, res) {
    const location = dynamic
      ? spec.to.replaceAll("{path}", req.path).replaceAll("{query}", req.query === "" ? "" : "?" + req.query)
      : spec.to;
    return res.send(
      status,
      [["Location", location], ["Content-Type", "text/plain; charset=utf-8"]],
      `Moved to ${location}\n`,
    );
  };
}
