/**
 * After a `101 Switching Protocols` from the upstream (WebSocket and any other upgrade), the
 * client's connection and the upstream's carry each other's bytes unchanged until both sides
 * have ended: each direction reads a piece only once the other side took the last one, and
 * passes its end on as a half-close.
 *
 * @module
 */

import type { Tunnel } from "../http/tunnel.ts";
import type { UpstreamConn } from "./upstream_conn.ts";

const PIECE = 16 * 1024;

/**
 * Relays bytes between `tunnel` (the client) and `upstream` until both directions end, then
 * closes the upstream (the client's connection closes when the handler returns).
 *
 * @example
 * ```ts ignore
 * const tunnel = await res.capability("switch")!("websocket", headers);
 * await relayTunnel(tunnel, conn);
 * ```
 */
export async function relayTunnel(tunnel: Tunnel, upstream: UpstreamConn): Promise<void> {
  tunnel.setDeadline(Infinity);
  tunnel.onDrain = undefined;
  const early = upstream.takeBuffered();
  const toClient = async () => {
    try {
      if (early.length > 0) {
        tunnel.out.append(early);
        await tunnel.out.flush();
      }
      const buf = new Uint8Array(PIECE);
      for (;;) {
        const n = await upstream.conn.read(buf);
        if (n === null) break;
        tunnel.out.append(buf.subarray(0, n));
        await tunnel.out.flush();
      }
      await tunnel.closeWrite();
    } catch {
      tunnel.close();
      upstream.close();
    }
  };
  const toUpstream = async () => {
    try {
      if (tunnel.early.length > 0) await upstream.write(tunnel.early);
      const buf = new Uint8Array(PIECE);
      for (;;) {
        const n = await tunnel.read(buf);
        if (n === null) break;
        await upstream.write(buf.subarray(0, n));
      }
      await upstream.conn.closeWrite();
    } catch {
      tunnel.close();
      upstream.close();
    }
  };
  await Promise.all([toClient(), toUpstream()]);
  upstream.close();
}
