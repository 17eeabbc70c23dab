/**
 * The watch for a client's going while a handler runs (`Request.signal`): once the request body
 * has been read to its end, one read waits on the socket for the end or a reset. Bytes that come
 * meanwhile are the next pipelined request: they join the connection's read buffer. It owns the
 * watched callback, the read in flight and whether the socket reached its end; the connection
 * (`connection.ts`) holds one for its life.
 *
 * @module
 */

import { turnMono } from "../net/clock.ts";
import type { Body } from "./body.ts";
import type { ConnectionContext } from "../http/connection_context.ts";
import type { ReadBuffer } from "./read_buffer.ts";

/** What the watch needs of its connection: the read buffer and a few facts. */
export interface WatchedConnection {
  /** The read buffer: bytes the watch reads join it. */
  readonly input: ReadBuffer;
  /** When the last read completed. */
  arrival: number;
  /** Whether the socket is closed. */
  readonly socketClosed: boolean;
  /** The server. */
  readonly ctx: ConnectionContext;
  /** Requests served so far: a watch belongs to one of them. */
  readonly served: number;
}

/** The client-gone watch of one connection. */
export class GoneWatch {
  /** Whether the socket reached its end (or a reset). */
  eof = false;
  /** Told once when the client goes away while the current handler runs (see watch). */
  gone: (() => void) | undefined;
  /** The read that watches for the client's going while a handler runs; its bytes join the buffer. */
  pending: Promise<void> | undefined;
  /** Set when the connection switches protocols: no watch starts after that. */
  switched = false;

  #conn: Deno.Conn;
  #host: WatchedConnection;

  /** A watch over `conn` for `host`. */
  constructor(conn: Deno.Conn, host: WatchedConnection) {
    this.#conn = conn;
    this.#host = host;
  }

  /**
   * Calls `gone` once the client goes away while the current handler runs. A body read that
   * meets the end of the connection says so; once `body` has been read to its end, a read waits
   * on the socket for the end or a reset. Bytes that come meanwhile are the next pipelined
   * request: they join the read buffer (up to a head's worth, then the watch stops).
   */
  watch(body: Body, gone: () => void): void {
    if (this.eof || this.#host.socketClosed) {
      gone();
      return;
    }
    this.gone = gone;
    if (body.done) this.#start();
    else body.onEnd = () => this.#start();
  }

  #start(): void {
    if (this.gone === undefined || this.switched) return;
    const served = this.#host.served;
    const before = this.pending;
    this.pending = before === undefined ? this.#read(served) : before.then(() => this.#read(served));
  }

  async #read(served: number): Promise<void> {
    const host = this.#host;
    const scratch = new Uint8Array(1024);
    try {
      while (this.gone !== undefined && host.served === served && !host.socketClosed && !this.eof) {
        const n = await this.#conn.read(scratch);
        if (n === null) {
          this.eof = true;
          break;
        }
        host.ctx.stats.bytesIn += n;
        host.input.append(scratch.subarray(0, n));
        host.arrival = turnMono(); // the next request's start
        // A head's worth is waiting: the client is there, and the parser judges the rest.
        if (host.input.available() >= host.ctx.options.maxHeaderBytes) return;
      }
    } catch {
      // reset, or closed under the read
      this.eof = true;
    }
    if (host.served === served && (this.eof || host.socketClosed)) this.fire();
  }

  /** Tells the watcher, once, that the client is gone. */
  fire(): void {
    const gone = this.gone;
    if (gone !== undefined) {
      this.gone = undefined;
      gone();
    }
  }

  /** Closes while a watch read is in flight: it does the lingering read, until the client ends or the deadline. */
  async linger(lingering: () => void): Promise<void> {
    try {
      await this.#conn.closeWrite();
    } catch {
      // the peer is gone
    }
    lingering();
    await this.settle();
  }

  /** Waits for a watch read in flight, so that no two reads are ever pending at once. */
  async settle(): Promise<void> {
    while (this.pending !== undefined) {
      const w = this.pending;
      await w;
      if (this.pending === w) this.pending = undefined;
    }
  }
}
