/**
 * The QUIC listener of `--http3`: a `Deno.QuicEndpoint` on UDP at the HTTPS port's number (on
 * `--host`), ALPN `h3`, with the HTTPS listener's default certificate (Deno's QUIC takes one per
 * listener). Each accepted connection becomes an {@linkcode H3Connection} the server admits
 * like any other (the connection cap, the sweeper, the drain); past the cap it is refused.
 *
 * @module
 */

import type { ConnectionContext, ServedConnection } from "../http/connection_context.ts";
import type { TlsMaterial } from "../tls/material.ts";
import { H3Connection } from "./connection.ts";

/** Seconds QUIC's idle timeout adds to `--keepalive-timeout`. */
const QUIC_IDLE_SLACK_S = 5;

/** What the listener needs of its server. */
export interface QuicHost extends ConnectionContext {
  /** Registers an accepted connection (made with a fresh id); false when the server is full or draining. */
  admit(make: (id: number) => ServedConnection): boolean;
}

/** Where and how to listen. */
export interface QuicListenOptions {
  /** The address (`--host`). */
  hostname: string;
  /** The UDP port: the HTTPS port's number. */
  port: number;
  /** The certificate and key. */
  material: TlsMaterial;
  /** Request streams one connection may have open at once (QUIC's MAX_STREAMS). */
  maxStreams: number;
  /** Milliseconds of silence after which QUIC itself drops a connection (0: no limit). */
  idleMs: number;
}

/**
 * The HTTP/3 listener.
 *
 * @example
 * ```ts ignore
 * const q = H3Listener.open(server, { hostname: "127.0.0.1", port: 8443, material, maxStreams: 100, idleMs: 30000 });
 * // ... later
 * q.stop();
 * ```
 */
export class H3Listener {
  /** The UDP address bound. */
  readonly addr: Deno.NetAddr;
  #endpoint: Deno.QuicEndpoint;
  #listener: Deno.QuicListener;
  #host: QuicHost;
  #loop: Promise<void>;
  /** Resolves when {@linkcode H3Listener.stop} is called (a pending `incoming()` does not settle then). */
  #stopped: Promise<null>;
  #stop!: (v: null) => void;

  private constructor(host: QuicHost, endpoint: Deno.QuicEndpoint, opts: QuicListenOptions) {
    this.#host = host;
    this.#endpoint = endpoint;
    this.addr = endpoint.addr;
    this.#stopped = new Promise((resolve) => this.#stop = resolve);
    this.#listener = endpoint.listen({
      alpnProtocols: ["h3"],
      cert: opts.material.cert,
      key: opts.material.key,
      maxConcurrentBidirectionalStreams: opts.maxStreams,
      // The peer's control, encoder and decoder streams, and room for a few it may add.
      maxConcurrentUnidirectionalStreams: 16,
      ...(opts.idleMs > 0 ? { maxIdleTimeout: opts.idleMs } : {}),
    });
    this.#loop = this.#accept();
  }

  /** Binds the endpoint and starts accepting; throws when the UDP port cannot be bound. */
  static open(host: QuicHost, opts: QuicListenOptions): H3Listener {
    const endpoint = new Deno.QuicEndpoint({ hostname: opts.hostname, port: opts.port });
    return new H3Listener(host, endpoint, opts);
  }

  async #accept(): Promise<void> {
    for (;;) {
      let incoming: Deno.QuicIncoming | null;
      try {
        incoming = await Promise.race([this.#listener.incoming(), this.#stopped]);
      } catch {
        return; // stopped
      }
      if (incoming === null) return;
      this.#host.stats.connectionsTotal++;
      this.#handshake(incoming);
    }
  }

  async #handshake(incoming: Deno.QuicIncoming): Promise<void> {
    const host = this.#host;
    if (host.draining) {
      incoming.refuse();
      return;
    }
    let quic: Deno.QuicConn;
    try {
      quic = await incoming.accept();
      await quic.handshake;
      host.stats.tlsHandshakesOk++;
    } catch (e) {
      host.stats.tlsHandshakesFailed++;
      host.log.debug("QUIC handshake failed", { error: String(e) });
      return;
    }
    let conn: H3Connection | undefined;
    if (host.admit((id) => conn = new H3Connection(quic, host, id, this.addr))) conn!.run();
    else {
      host.stats.capacityRejections++;
      // H3_EXCESSIVE_LOAD? No: the server is full, not the client at fault; NO_ERROR, and QUIC's reason says why.
      quic.close({ closeCode: 0x100, reason: "server is at capacity, retry later" });
    }
  }

  /** Stops accepting; open connections go on (the server drains them). */
  stop(): Promise<void> {
    this.#stop(null);
    try {
      this.#listener.stop();
    } catch {
      // already stopped
    }
    return this.#loop;
  }

  /** Closes the endpoint (every connection on it ends). */
  close(): void {
    try {
      this.#endpoint.close();
    } catch {
      // already closed
    }
  }
}

/**
 * Opens the `--http3` listener of a server whose HTTPS listener is on `port` with the default
 * certificate `material`; throws an error that says what to change.
 */
export function openHttp3(
  host: QuicHost,
  port: number | undefined,
  material: TlsMaterial | undefined,
): H3Listener {
  const o = host.options;
  if (port === undefined) throw new TypeError("--http3 needs the HTTPS listener: drop --no-https");
  if (material === undefined) throw new TypeError("--http3 needs a certificate: give --cert and --key");
  // A bind error is worded by the server's caller (listenError, "http3").
  return H3Listener.open(host, {
    hostname: o.host,
    port,
    material,
    maxStreams: o.h3MaxStreams,
    // ferry closes an idle connection itself (GOAWAY first) after the keep-alive timeout; QUIC's
    // own idle timeout, a little later, drops a peer that vanished without a word.
    idleMs: o.keepaliveTimeout > 0 ? (o.keepaliveTimeout + QUIC_IDLE_SLACK_S) * 1000 : 0,
  });
}

/** The header lines of every HTTP/1.1 TLS response with `--http3`: HSTS when on, and Alt-Svc. */
export function secureHeadOf(hsts: number, altSvc: string): Uint8Array {
  const sts = hsts > 0 ? `Strict-Transport-Security: max-age=${hsts}\r\n` : "";
  return new TextEncoder().encode(`${sts}Alt-Svc: ${altSvc}\r\n`);
}

/** The Alt-Svc value that points clients to HTTP/3 on `port` for a day (RFC 7838). */
export function altSvcOf(port: number): string {
  return `h3=":${port}"; ma=86400`;
}
