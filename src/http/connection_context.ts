/**
 * What a connection needs from its server: options, the mount table, counters, the log, the
 * shutdown flag, request ids, and the few per-server facts (HSTS, the redirect, trusted proxies).
 * The server implements it; the connection loop only reads it.
 *
 * @module
 */

import type { Mount, Router } from "./dispatch.ts";
import type { ClientView } from "./request.ts";
import type { HeaderList } from "./headers.ts";
import type { ResolvedOptions } from "../options.ts";
import type { Logger } from "../log/logger.ts";
import type { Stats } from "../stats.ts";

/** What the server needs of every connection it serves, whatever its protocol. */
export interface ServedConnection {
  /** When the connection's current wait expires (ms since the epoch). */
  readonly deadline: number;
  /** The sweeper found the deadline passed. */
  expire(): void;
  /** When the write in progress started (0: none). */
  readonly writeStalledSince: number;
  /** A write made no progress for too long. */
  expireWrite(): void;
  /** Graceful shutdown begins. */
  drain(): void;
  /** Closes at once. */
  abort(): void;
}

/** What a connection needs from its server. */
export interface ConnectionContext {
  /** The server's options. */
  readonly options: ResolvedOptions;
  /** The mount table (a config reload swaps it: read it once per request). */
  readonly dispatcher: Router;
  /** Counters. */
  readonly stats: Stats;
  /** Logs. */
  readonly log: Logger;
  /** Whether a graceful shutdown is under way. */
  readonly draining: boolean;
  /** A fresh request id. */
  nextRequestId(): string;
  /** Seconds for a Retry-After header (randomised so refused clients spread out). */
  retryAfter(): string;
  /** Header lines for every TLS response (HSTS, Alt-Svc), pre-encoded. */
  readonly secureHead: Uint8Array | undefined;
  /** With `--http3`: the Alt-Svc value every TCP TLS response carries (`h3=":8443"; ma=86400`). */
  readonly altSvc: string | undefined;
  /** On a plain-HTTP connection with `redirectHttp`: the mount that redirects to HTTPS. */
  readonly redirectMount: Mount | undefined;
  /**
   * What trusted proxies say of the client behind `peer` (undefined: the peer is the client);
   * absent when no proxy is trusted.
   */
  readonly clientOf: ((headers: HeaderList, peer: string) => ClientView | undefined) | undefined;
  /** Called once when the connection has closed. */
  closed(conn: ServedConnection): void;
}
