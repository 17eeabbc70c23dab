/**
 * The {@linkcode Tunnel} a connection becomes after `101 Switching Protocols`: reads straight
 * from the socket (counted as bytes in), the connection's own output, and its deadline, which
 * the server's sweeper checks as it does for every connection.
 *
 * @module
 */

import type { Tunnel } from "../http/tunnel.ts";
import type { Output } from "../net/output.ts";
import type { ResolvedOptions } from "../options.ts";
import type { Stats } from "../stats.ts";
import type { Logger } from "../log/logger.ts";

/** What a switched connection needs from the connection it was. */
export interface SwitchHost {
  /** The connection's output. */
  readonly out: Output;
  /** The sweeper's deadline for this connection (ms since the epoch). */
  deadline: number;
  /** Whether the server is shutting down. */
  readonly draining: boolean;
  /** Closes the socket now. */
  abort(): void;
}

/**
 * A connection after a protocol switch.
 *
 * @example
 * ```ts ignore
 * const t = new SwitchedConnection(conn, host, early, options, stats, log, isConnectionError);
 * ```
 */
export class SwitchedConnection implements Tunnel {
  /** Bytes read with the head that belong to the new protocol. */
  readonly early: Uint8Array;
  /** Called when the deadline passes. */
  onExpire: (() => void) | undefined = undefined;
  /** Called once at a graceful shutdown. */
  onDrain: (() => void) | undefined = undefined;
  /** The server's options. */
  readonly options: ResolvedOptions;
  /** The server's counters. */
  readonly stats: Stats;
  /** The server's logger. */
  readonly log: Logger;
  #conn: Deno.Conn;
  #host: SwitchHost;
  #closed = false;
  #gone: (e: unknown) => boolean;

  /** Wraps `conn`, whose HTTP connection `host` it was; `gone` tells a vanished peer's errors. */
  constructor(
    conn: Deno.Conn,
    host: SwitchHost,
    early: Uint8Array,
    options: ResolvedOptions,
    stats: Stats,
    log: Logger,
    gone: (e: unknown) => boolean,
  ) {
    this.#conn = conn;
    this.#host = host;
    this.early = early;
    this.options = options;
    this.stats = stats;
    this.log = log;
    this.#gone = gone;
  }

  /** The connection's output. */
  get out(): Output {
    return this.#host.out;
  }

  /** Whether the server is shutting down. */
  get draining(): boolean {
    return this.#host.draining;
  }

  /** Reads into `into`; null at the end of input, on a reset, or once closed. */
  async read(into: Uint8Array): Promise<number | null> {
    if (this.#closed) return null;
    try {
      const n = await this.#conn.read(into);
      if (n !== null) this.stats.bytesIn += n;
      return n;
    } catch (e) {
      if (this.#gone(e)) return null;
      throw e;
    }
  }

  /** Sets when {@linkcode SwitchedConnection.onExpire} is due. */
  setDeadline(at: number): void {
    this.#host.deadline = at;
  }

  /** Flushes what is queued, then sends FIN. */
  async closeWrite(): Promise<void> {
    try {
      await this.#host.out.flush();
      await this.#conn.closeWrite();
    } catch {
      // the peer is gone already
    }
  }

  /** Closes the socket. */
  close(): void {
    this.#closed = true;
    this.#host.abort();
  }
}
