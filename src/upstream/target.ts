/**
 * An upstream target's address as users write it: `HOST:PORT` (`127.0.0.1:9001`, `[::1]:9001`,
 * `localhost:3000`), optionally after `http://`, or `unix//PATH` for a Unix socket (Caddy's
 * spelling: `unix//run/app.sock` is `/run/app.sock`).
 *
 * @module
 */

/** Where a target listens. */
export type TargetAddress =
  | { transport: "tcp"; hostname: string; port: number }
  | { transport: "unix"; path: string };

/**
 * Parses a target; throws RangeError naming what is wrong and the expected form.
 *
 * @example
 * ```ts
 * import { parseTarget } from "./target.ts";
 * console.log(parseTarget("127.0.0.1:9001")); // { transport: "tcp", hostname: "127.0.0.1", port: 9001 }
 * console.log(parseTarget("unix//run/app.sock")); // { transport: "unix", path: "/run/app.sock" }
 * ```
 */
export function parseTarget(text: string): TargetAddress {
  const expected = "expected HOST:PORT (127.0.0.1:9001) or unix//PATH (unix//run/app.sock)";
  if (text.startsWith("unix/")) {
    const path = text.slice(5);
    if (!path.startsWith("/") || path.length < 2) {
      throw new RangeError(`upstream target ${JSON.stringify(text)}: ${expected}`);
    }
    return { transport: "unix", path };
  }
  let rest = text.startsWith("http://") ? text.slice(7) : text;
  if (rest.endsWith("/")) rest = rest.slice(0, -1);
  if (text.startsWith("https://")) {
    throw new RangeError(
      `upstream target ${JSON.stringify(text)}: TLS to upstreams is not supported; ${expected}`,
    );
  }
  const colon = rest.lastIndexOf(":");
  if (colon <= 0) throw new RangeError(`upstream target ${JSON.stringify(text)}: no port; ${expected}`);
  let hostname = rest.slice(0, colon);
  const portText = rest.slice(colon + 1);
  if (hostname.startsWith("[") && hostname.endsWith("]")) hostname = hostname.slice(1, -1);
  const port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535) || hostname === "" || /[\s/?#@]/.test(hostname)) {
    throw new RangeError(`upstream target ${JSON.stringify(text)}: ${expected}`);
  }
  return { transport: "tcp", hostname, port };
}

/** The target as it is named in metrics, logs and the admin API (`127.0.0.1:9001`, `unix//run/a.sock`). */
export function targetName(a: TargetAddress): string {
  if (a.transport === "unix") return `unix/${a.path}`;
  return a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`;
}
