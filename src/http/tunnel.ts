/**
 * The contract of a connection handed to another protocol after `101 Switching Protocols`
 * (RFC 9110 §7.8, §15.2.2): the HTTP loop stops reading heads, and the new protocol (WebSocket)
 * reads and writes the socket through a {@linkcode Tunnel} until it is done. The connection
 * stays counted against `--max-connections`, keeps its write-stall check, and is closed by the
 * HTTP loop once the handler that switched protocols returns.
 *
 * @module
 */

import type { Output } from "../net/output.ts";
import type { ResolvedOptions } from "../options.ts";
import type { Stats } from "../stats.ts";
import type { Logger } from "../log/logger.ts";

/**
 * A switched connection, as its new protocol sees it.
 *
 * @example
 * ```ts ignore
 * const tunnel = res.switchProtocols("websocket", [["Sec-WebSocket-Accept", accept]]);
 * const buf = new Uint8Array(8192);
 * const n = await tunnel.read(buf);
 * ```
 */
export interface Tunnel {
  /** Bytes the client sent after the request head and the connection had already read (a copy). */
  readonly early: Uint8Array;
  /** Reads from the socket into `into`; null at the end of the input or once the socket closed. */
  read(into: Uint8Array): Promise<number | null>;
  /** The connection's output: append, then flush (flushes are serialised). */
  readonly out: Output;
  /** Asks for {@linkcode Tunnel.onExpire} at `at` (ms since the epoch; Infinity: never). */
  setDeadline(at: number): void;
  /** Called by the server's sweeper once the deadline has passed. */
  onExpire: (() => void) | undefined;
  /** Called once when a graceful shutdown reaches this connection. */
  onDrain: (() => void) | undefined;
  /** Whether a graceful shutdown is under way. */
  readonly draining: boolean;
  /** Flushes, then half-closes (sends FIN); reads go on until the peer closes its side. */
  closeWrite(): Promise<void>;
  /** Closes the socket now (pending reads end with null). */
  close(): void;
  /** The server's options. */
  readonly options: ResolvedOptions;
  /** The server's counters. */
  readonly stats: Stats;
  /** The server's logger. */
  readonly log: Logger;
}
