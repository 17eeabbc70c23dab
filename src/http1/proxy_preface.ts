/**
 * The PROXY protocol header (HAProxy's `send-proxy`) that opens a connection on a listener with
 * `--proxy-protocol`: read from the connection's buffer before any HTTP byte, it names the client
 * the connection stands for.
 *
 * @module
 */

import type { ByteSource } from "./body.ts";
import type { ConnectionContext } from "../http/connection_context.ts";
import { parseProxyHeader, ProxyHeaderError } from "../proxy/proxy_protocol.ts";
import { bump } from "../stats.ts";

/** The connection the header is read from, whose peer address it may replace. */
export interface PrefacedConnection extends ByteSource {
  /** Connection id, for the log. */
  readonly id: number;
  /** The server. */
  readonly ctx: ConnectionContext;
  /** The peer's address (replaced by the header's source). */
  remoteAddr: string;
  /** The peer's port (likewise). */
  remotePort: number;
}

/**
 * Reads the PROXY protocol header that must open the connection, and takes the client's address
 * from it; false (the connection is to close, unanswered) when it is missing or malformed.
 */
export async function readProxyPreface(c: PrefacedConnection): Promise<boolean> {
  for (;;) {
    let header;
    try {
      header = parseProxyHeader(c.input.array, c.input.offset, c.input.limit);
    } catch (e) {
      if (!(e instanceof ProxyHeaderError)) throw e;
      bump(c.ctx.stats.rejections, "proxy_protocol");
      c.ctx.log.debug("PROXY protocol header refused", { conn: c.id, reason: e.message });
      return false;
    }
    if (header !== undefined) {
      c.input.consume(header.length);
      if (header.source !== undefined) {
        c.remoteAddr = header.source.addr;
        c.remotePort = header.source.port;
      }
      return true;
    }
    if (!(await c.input.fill())) return false;
  }
}
