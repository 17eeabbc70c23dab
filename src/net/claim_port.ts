/**
 * Claiming a port before a listener with SO_REUSEPORT opens on it.
 *
 * @module
 */

/**
 * `port` on `hostname` if nobody holds it (a bind without SO_REUSEPORT fails with AddrInUse when any
 * socket does, one with SO_REUSEPORT included), or a free port for 0: the port to open the real
 * listener on, with SO_REUSEPORT. Throws Deno's `AddrInUse` when another socket holds it.
 *
 * @example
 * ```ts ignore
 * const port = claimPort("127.0.0.1", 0);
 * const listener = Deno.listenTls({ hostname: "127.0.0.1", port, reusePort: true, cert, key });
 * ```
 */
export function claimPort(hostname: string, port: number): number {
  const probe = Deno.listen({ hostname, port });
  const claimed = (probe.addr as Deno.NetAddr).port;
  probe.close();
  return claimed;
}
