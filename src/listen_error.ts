/**
 * Start-up errors of the listeners, worded for the person starting ferry.
 *
 * @module
 */

import { hostPort } from "./http/authority.ts";

/**
 * A listen failure as an error that names the address, the listener and the flag to change (a
 * port in use, a port below 1024 without the capability, an address not on this machine).
 *
 * @example
 * ```ts ignore
 * throw listenError(e, "http", "127.0.0.1", 8080);
 * ```
 */
export function listenError(e: unknown, which: string, host: string, port: number): unknown {
  const flag = which === "http" ? "--port" : "--https-port";
  const name = which === "http" ? "HTTP" : which === "http3" ? "HTTP/3 (UDP)" : "HTTPS";
  const where = `${hostPort(host, port)} (the ${name} listener)`;
  if (e instanceof Deno.errors.AddrInUse) {
    return new Error(
      `cannot listen on ${where}: the address is in use, by another server? Choose another with ${flag}`,
    );
  }
  if (e instanceof Deno.errors.PermissionDenied) {
    return new Error(
      `cannot listen on ${where}: permission denied; ports below 1024 need root or CAP_NET_BIND_SERVICE ` +
        `(see the README's Deploy section), or choose another with ${flag}`,
    );
  }
  if (e instanceof Deno.errors.AddrNotAvailable) {
    return new Error(`cannot listen on ${where}: --host ${host} is not an address of this machine`);
  }
  if (e instanceof Error && !(e instanceof TypeError)) {
    return new Error(`cannot listen on ${where}: ${e.message}`);
  }
  return e;
}
