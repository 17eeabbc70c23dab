/**
 * The server: listeners (`Deno.listen`, `Deno.listenTls`), admission against the connection cap,
 * the sweeper that enforces every connection's deadline, and graceful drain.
 *
 * @module
 */

import { Connection } from "./http1/connection.ts";
import type { ConnectionContext, ServedConnection } from "./http/connection_context.ts";
import { H2Connection } from "./http2/connection.ts";
import { sniffPreface } from "./http2/sniff.ts";
import { isConnectionError } from "./net/peer_errors.ts";
import { Dispatcher, type Handler, type Mount, type Router } from "./http/dispatch.ts";
import { type ResolvedOptions, resolveOptions, type ServerOptions } from "./options.ts";
import { Logger } from "./log/logger.ts";
import { bump, Stats } from "./stats.ts";
import { Http1Writer, httpDate, Output, type ResponseSink } from "./http1/writer.ts";
import { sendError } from "./http/error_page.ts";
import type { ClientView } from "./http/request.ts";
import { hostPort } from "./http/authority.ts";
import type { TlsMaterial } from "./tls/material.ts";
import { CertStore } from "./tls/cert_store.ts";
import { tlsSocketBudget } from "./tls/budget.ts";
import { probeProcess } from "./process_probe.ts";
import { healthMounts } from "./health.ts";
import { listenError } from "./listen_error.ts";
import { redirectToHttps } from "./redirect.ts";
import { altSvcOf, type H3Listener, openHttp3, secureHeadOf } from "./http3/listener.ts";
import { RequestIds } from "./http/request_ids.ts";
import { claimPort } from "./net/claim_port.ts";
import { RetiringListeners } from "./net/retiring_listeners.ts";

export type { TlsMaterial };
import type { HeaderList } from "./http/headers.ts";
import { AllowList } from "./net/cidr.ts";
import { forwardedClient } from "./proxy/forwarded.ts";

/** What a server is built from, besides its options. */
export interface ServerParts {
  /** Mounts tried in order before the app. */
  mounts?: Mount[];
  /** The handler for every path no mount takes. */
  app: Handler;
  /** Certificate and key for the HTTPS listener (required when `https` is on). */
  tls?: TlsMaterial;
  /**
   * Automatic HTTPS: answers `/.well-known/acme-challenge/` on plain HTTP (before `--redirect-http`);
   * per-name certificates are swapped in live ({@linkcode Server.setCertificate}).
   */
  acmeChallenge?: Handler;
  /** Per-name certificates (SNI) to serve from the start, besides `tls`. */
  certificates?: Map<string, TlsMaterial>;
  /** The logger; by default access lines go to stdout and errors to stderr. */
  log?: Logger;
  /** Counters (pass one to share it with a metrics mount). */
  stats?: Stats;
  /**
   * Called once every connection has closed, before the log closes: where parts the server does
   * not own stop (the Python workers).
   */
  stopping?: () => Promise<void>;
}

/** The path prefix of ACME http-01 answers (RFC 8555 §8.3). */
export const ACME_CHALLENGE_PREFIX = "/.well-known/acme-challenge/";

/** How long an over-capacity client is given to read its 503 before the socket closes. */
const REFUSE_LINGER_MS = 1000;
/**
 * Whether `--unstable-net` is on (its QUIC API is there): `listenTls`'s `reusePort` needs it, and
 * Deno exits the process on an unstable option used without it (`deno test --allow-net`).
 */
const UNSTABLE_NET = typeof (Deno as unknown as { QuicEndpoint?: unknown }).QuicEndpoint === "function";
/** First wait after a listener-wide accept failure (EMFILE, ENFILE, ENOBUFS); it doubles from here. */
const ACCEPT_BACKOFF_MIN_MS = 5;
/** Longest wait after a listener-wide accept failure: brief, so the loop is back as soon as a descriptor frees. */
const ACCEPT_BACKOFF_MAX_MS = 100;

/**
 * A running ferry server.
 *
 * @example
 * ```ts ignore
 * const server = new Server({ port: 0, https: false }, { app: async (_req, res) => await res.send(200, [], "hi") });
 * await server.listen();
 * console.log(server.httpAddr?.port);
 * await server.shutdown();
 * ```
 */
export class Server implements ConnectionContext {
  /** Resolved options. */
  readonly options: ResolvedOptions;
  /** The mounts every site keeps, before its own routes: `/_health`, `/_ready`, the ACME challenge. */
  readonly builtins: readonly Mount[];
  /** Counters. */
  readonly stats: Stats;
  /** Logger. */
  readonly log: Logger;
  /** Resolves when the server has stopped and every connection is closed. */
  readonly finished: Promise<void>;

  #resolveFinished!: () => void;
  #certs: CertStore;
  #swapping: Promise<void> = Promise.resolve();
  #swapQueued = false;
  #acme: Mount | undefined;
  #stopping: (() => Promise<void>) | undefined;
  #listeners: Array<{ listener: Deno.Listener; secure: boolean; loop?: Promise<void> }> = [];
  /** Replaced HTTPS listeners still taking their backlog, with connections accepted meanwhile. */
  #retiring = new RetiringListeners();
  #conns = new Set<ServedConnection>();
  #handshaking = new Set<Deno.Conn>();
  /** Handshakes given up on whose descriptor the runtime still holds (see `tlsAbandonedHeld`);
   * they stay in #handshaking too until their handshake settles. */
  #abandoned = new Set<Deno.Conn>();
  /** Most TLS sockets in a handshake or abandoned at once: a share of RLIMIT_NOFILE. */
  #tlsBudget = tlsSocketBudget(undefined);
  /** Accept loops waiting for a handshake to settle (see {@linkcode tlsSocketBudget}). */
  #handshakeSettled: Array<() => void> = [];
  #refusing = 0;
  #nextConnId = 1;
  #requestIds = new RequestIds();
  #draining = false;
  #unready = false;
  #delayTimer: ReturnType<typeof setTimeout> | undefined;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #drainTimer: ReturnType<typeof setTimeout> | undefined;
  #acceptLoops: Promise<void>[] = [];
  #stopped = false;
  #secureHead: Uint8Array | undefined;
  #redirect: Mount | undefined;
  #router: Router;
  /** The mounts it was made with (closed once it has stopped). */
  #mounts: readonly Mount[];
  #quic: H3Listener | undefined;
  #altSvc: string | undefined;
  #h3Head: Uint8Array | undefined;

  /** A server that has not started listening yet. */
  constructor(options: ServerOptions, parts: ServerParts) {
    this.options = resolveOptions(options);
    if (parts.acmeChallenge !== undefined) {
      this.#acme = { name: "acme", prefix: ACME_CHALLENGE_PREFIX, handler: parts.acmeChallenge };
    }
    const acme = this.#acme ? [this.#acme] : [];
    this.builtins = [...healthMounts(() => !this.#unready), ...acme];
    this.#mounts = parts.mounts ?? [];
    this.#router = new Dispatcher([
      ...this.builtins,
      ...this.#mounts,
    ], {
      name: "app",
      prefix: "/",
      handler: parts.app,
    });
    if (this.options.trustedProxies !== "") {
      const trusted = AllowList.parse(this.options.trustedProxies);
      this.clientOf = (headers, peer) => forwardedClient(headers, peer, trusted);
    }
    this.stats = parts.stats ?? new Stats();
    this.log = parts.log ?? new Logger(this.options.logFormat, Deno.stdout, Deno.stderr);
    this.#certs = new CertStore(parts.tls);
    for (const [name, material] of parts.certificates ?? []) this.#certs.set(name, material);
    this.#stopping = parts.stopping;
    this.finished = new Promise((resolve) => this.#resolveFinished = resolve);
    if (this.options.hsts > 0) {
      this.#secureHead = new TextEncoder().encode(
        `Strict-Transport-Security: max-age=${this.options.hsts}\r\n`,
      );
    }
    if (this.options.redirectHttp && this.options.https) {
      const o = this.options;
      const redirect = redirectToHttps(o.host, () => this.httpsAddr?.port ?? o.httpsPort);
      const acme = this.#acme?.handler;
      this.#redirect = {
        name: "redirect",
        prefix: "/",
        // The ACME http-01 path is never redirected: the CA asks over plain HTTP.
        handler: acme === undefined ? redirect : function redirectOrAcme(req, res) {
          return req.path.startsWith(ACME_CHALLENGE_PREFIX) ? acme(req, res) : redirect(req, res);
        },
      };
    }
  }

  /**
   * The route table every new request is routed by: the flags' mount table, or a config file's
   * sites and routes. Setting it swaps it at once; requests already routed finish where they are.
   */
  get dispatcher(): Router {
    return this.#router;
  }

  set dispatcher(router: Router) {
    this.#router = router;
  }

  /** Whether a graceful shutdown is under way. */
  get draining(): boolean {
    return this.#draining;
  }

  /** What trusted proxies say of a client (`--trusted-proxies`); undefined when none is trusted. */
  readonly clientOf: ((headers: HeaderList, peer: string) => ClientView | undefined) | undefined;

  /** Whether the server takes new work: false from the moment a shutdown begins (`/_ready` → 503). */
  get ready(): boolean {
    return !this.#unready;
  }

  /** Open connections. */
  get connectionCount(): number {
    return this.#conns.size;
  }

  /** Address of the plain-HTTP listener, if open. */
  get httpAddr(): Deno.NetAddr | undefined {
    return this.#listeners.find((l) => !l.secure)?.listener.addr as Deno.NetAddr | undefined;
  }

  /** Address of the HTTPS listener, if open. */
  get httpsAddr(): Deno.NetAddr | undefined {
    return this.#listeners.find((l) => l.secure)?.listener.addr as Deno.NetAddr | undefined;
  }

  /** URLs of the open listeners, for the start-up lines. */
  get urls(): string[] {
    return this.#listeners.map(({ listener, secure }) => {
      const a = listener.addr as Deno.NetAddr;
      return `${secure ? "https" : "http"}://${hostPort(a.hostname, a.port)}/`;
    });
  }

  /** Opens the listeners and starts accepting. */
  listen(): Promise<void> {
    const o = this.options;
    let which = "";
    try {
      if (o.http) {
        which = "http";
        const opts = { hostname: o.host, port: o.port, ...(o.reusePort ? { reusePort: true } : {}) };
        this.#listeners.push({ listener: Deno.listen(opts as Deno.TcpListenOptions), secure: false });
      }
      if (o.https) {
        which = "https";
        // SO_REUSEPORT lets a reload open the next listener before this one closes; unless
        // --reuse-port shares the port on purpose, a bind without it first proves the port free.
        const port = o.reusePort ? o.httpsPort : claimPort(o.host, o.httpsPort);
        this.#listeners.push({ listener: this.#listenTls(o.host, port), secure: true });
      }
      if (o.http3) {
        which = "http3";
        this.#quic = openHttp3(this, this.httpsAddr?.port, this.#certs.fallback);
        this.#altSvc = altSvcOf(this.#quic.addr.port);
        this.#h3Head = secureHeadOf(o.hsts, this.#altSvc);
      }
    } catch (e) {
      for (const { listener } of this.#listeners) listener.close();
      this.#listeners = [];
      throw listenError(e, which, o.host, which === "http" ? o.port : o.httpsPort);
    }
    if (this.#listeners.length === 0) {
      throw new TypeError("both listeners are off (--no-http and --no-https)");
    }
    httpDate();
    this.#startSweeper();
    // The open-file limit (read once per process, without /proc) sizes the TLS budget before
    // the first TLS socket is accepted.
    return probeProcess().then((p) => {
      this.#tlsBudget = tlsSocketBudget(p.fdLimit);
      for (const entry of this.#listeners) {
        // Each listener keeps its accept loop: a certificate reload waits for it to end before
        // the port is opened again (see `#replaceTlsListener`).
        entry.loop = this.#accept(entry.listener, entry.secure);
        this.#acceptLoops.push(entry.loop);
      }
    });
  }

  /** For the HTTP/3 listener (its `QuicHost`, checked structurally): admits a QUIC connection unless full. */
  admit(make: (id: number) => ServedConnection): boolean {
    const max = this.options.maxConnections;
    if (this.#draining || (max > 0 && this.#conns.size + this.#handshaking.size >= max)) return false;
    this.#conns.add(make(this.#nextConnId++));
    this.stats.connectionsActive = this.#conns.size;
    return true;
  }

  async #accept(listener: Deno.Listener, secure: boolean): Promise<void> {
    let backoff = ACCEPT_BACKOFF_MIN_MS;
    for (;;) {
      let conn: Deno.Conn;
      if (secure && this.#handshaking.size >= this.#tlsBudget) {
        // A TLS socket in its handshake holds its descriptor until the peer sends or hangs up,
        // even once closed (Deno 2.9.6). Past the budget, stop accepting TLS until a handshake
        // settles: new TLS clients wait in the kernel's backlog, which costs no descriptor here,
        // and plain HTTP keeps the descriptors it needs.
        this.stats.tlsAcceptPauses++;
        await new Promise<void>((resolve) => this.#handshakeSettled.push(resolve));
        if (this.#draining || this.#stopped) return;
        continue;
      }
      try {
        conn = await listener.accept();
        backoff = ACCEPT_BACKOFF_MIN_MS;
        this.#retiring.accepted(listener);
      } catch (e) {
        if (this.#draining || this.#stopped || e instanceof Deno.errors.BadResource) return;
        if (isConnectionError(e)) {
          // One connection's fault (reset while it waited in the backlog: reading its peer's
          // address fails with NotConnected): that connection is gone, the listener is fine.
          this.stats.acceptLost++;
          this.log.debug("a connection went away before it was accepted", { error: String(e) });
          continue;
        }
        // Listener-wide (EMFILE, ENFILE, ENOBUFS): wait briefly and go on, as Go's net/http does.
        this.stats.acceptBackoffs++;
        this.log.error("accept failed", { error: String(e), retryMs: backoff });
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, ACCEPT_BACKOFF_MAX_MS);
        continue;
      }
      this.stats.connectionsTotal++;
      const max = this.options.maxConnections;
      if (this.#draining) {
        closeQuietly(conn);
      } else if (max > 0 && this.#conns.size + this.#handshaking.size >= max) {
        this.#refuse(conn);
      } else if (secure) {
        this.#handshake(conn as Deno.TlsConn);
      } else {
        this.#admit(conn, false);
      }
    }
  }

  #admit(conn: Deno.Conn, secure: boolean, h2 = false): void {
    try {
      (conn as Deno.TcpConn).setNoDelay?.(true);
    } catch {
      // not a TCP socket
    }
    if (!secure && this.options.h2c && !this.options.proxyProtocol) {
      this.#sniff(conn);
      return;
    }
    this.#start(conn, secure, h2, undefined);
  }

  #start(conn: Deno.Conn, secure: boolean, h2: boolean, early: Uint8Array | undefined): void {
    const id = this.#nextConnId++;
    const c = h2
      ? new H2Connection(conn, this, id, secure, early)
      : new Connection(conn, this, id, secure, early);
    this.#conns.add(c);
    this.stats.connectionsActive = this.#conns.size;
    c.run();
  }

  /** --h2c: the plain listener tells HTTP/2 prior knowledge (the preface) from HTTP/1.1. */
  async #sniff(conn: Deno.Conn): Promise<void> {
    const seen = await sniffPreface(conn, this.options.headerTimeout);
    if (seen === null) {
      bump(this.stats.timeouts, "header");
      closeQuietly(conn);
      return;
    }
    if (this.#draining) {
      closeQuietly(conn);
      return;
    }
    this.#start(conn, false, seen.h2, seen.bytes);
  }

  /**
   * TLS: the handshake must finish within the header timeout. One that does not is abandoned: it
   * is counted (`tlsAbandonedHeld`) and closed when it settles. Closing it at once would not free
   * its descriptor (Deno 2.9.6 keeps the socket until the peer sends or hangs up, measured with
   * /proc/self/fd), and would hide it from the budget that keeps plain HTTP serving.
   */
  async #handshake(conn: Deno.TlsConn): Promise<void> {
    this.#handshaking.add(conn);
    let h2 = false;
    const t = this.options.headerTimeout;
    let timedOut = false;
    const timer = t > 0
      ? setTimeout(() => {
        timedOut = true;
        bump(this.stats.timeouts, "handshake");
        this.#abandoned.add(conn);
        this.stats.tlsAbandonedHeld = this.#abandoned.size;
      }, t * 1000)
      : undefined;
    try {
      const info = await conn.handshake();
      h2 = info.alpnProtocol === "h2";
      if (timedOut) throw new Error("handshake finished after the header timeout");
      this.stats.tlsHandshakesOk++;
    } catch (e) {
      this.stats.tlsHandshakesFailed++;
      this.log.debug("TLS handshake failed", { error: timedOut ? "timeout" : String(e) });
      closeQuietly(conn);
      return;
    } finally {
      clearTimeout(timer);
      this.#handshaking.delete(conn);
      if (this.#abandoned.delete(conn)) this.stats.tlsAbandonedHeld = this.#abandoned.size;
      for (const resume of this.#handshakeSettled.splice(0)) resume();
    }
    if (this.#draining) {
      closeQuietly(conn);
      return;
    }
    this.#admit(conn, true, h2);
  }

  /** Over capacity: 503 with Retry-After and Connection: close, then close. */
  #refuse(conn: Deno.Conn): void {
    this.stats.capacityRejections++;
    bump(this.stats.responses, 503);
    // The refusals themselves are bounded too: past this many in flight, just close.
    if (this.#refusing >= Math.max(64, this.options.maxConnections)) {
      closeQuietly(conn);
      return;
    }
    this.#refusing++;
    // Written through the HTTP/1.1 writer like every other answer: its status line, Date and
    // Server, and Connection: close (this sink always closes).
    const out = new Output(conn);
    const sink: ResponseSink = { out, mustClose: () => true, endOfResponse: () => out.flush() };
    const timer = setTimeout(() => closeQuietly(conn), REFUSE_LINGER_MS);
    (async () => {
      try {
        await sendError(new Http1Writer(sink), undefined, 503, "server is at capacity, retry later", [
          ["Retry-After", this.retryAfter()],
        ]);
        await conn.closeWrite();
        const scratch = new Uint8Array(4096);
        while ((await conn.read(scratch)) !== null) { /* discard until the client closes */ }
      } catch (e) {
        if (!isConnectionError(e)) this.log.debug("refusal failed", { error: String(e) });
      } finally {
        clearTimeout(timer);
        out.release();
        closeQuietly(conn);
        this.#refusing--;
      }
    })();
  }

  #startSweeper(): void {
    const o = this.options;
    const timeouts = [o.headerTimeout, o.keepaliveTimeout, o.bodyTimeout].filter((t) => t > 0);
    const shortest = timeouts.length > 0 ? Math.min(...timeouts) * 1000 : 1000;
    const every = Math.max(25, Math.min(1000, Math.floor(shortest / 4)));
    const writeTimeout = o.bodyTimeout > 0 ? o.bodyTimeout * 1000 : Infinity;
    this.#sweeper = setInterval(() => {
      const now = Date.now();
      for (const c of this.#conns) {
        if (c.deadline <= now) c.expire();
        else {
          const since = c.writeStalledSince;
          if (since > 0 && now - since > writeTimeout) c.expireWrite();
        }
      }
    }, every);
  }

  /** Part of {@linkcode ConnectionContext}: a fresh request id. */
  nextRequestId(): string {
    return this.#requestIds.next();
  }

  /** Part of {@linkcode ConnectionContext}: 1–5 seconds, at random. */
  retryAfter(): string {
    return String(1 + Math.floor(Math.random() * 5));
  }

  /** Part of {@linkcode ConnectionContext}: forgets a closed connection. */
  closed(c: ServedConnection): void {
    this.#conns.delete(c);
    this.stats.connectionsActive = this.#conns.size;
    if (this.#draining) this.#maybeFinished();
  }

  /**
   * Graceful shutdown: stop accepting, close idle connections, let in-flight requests finish
   * (they are answered with `Connection: close`; requests arriving now get 503), and after
   * `drainTimeout` seconds close whatever is left. Resolves when everything is closed.
   */
  shutdown(): Promise<void> {
    if (this.#unready) return this.finished;
    this.#unready = true;
    const delay = this.options.drainDelay;
    if (delay > 0) {
      // Unready first: a balancer polling /_ready takes this instance out while it still serves.
      this.log.info("unready: serving on until the drain delay has passed", { seconds: delay });
      this.#delayTimer = setTimeout(() => this.#drain(), delay * 1000);
    } else this.#drain();
    return this.finished;
  }

  /** Stops accepting, closes idle connections, lets busy ones finish. */
  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    for (const listener of [...this.#listeners.map((l) => l.listener), ...this.#retiring.listeners()]) {
      try {
        listener.close();
      } catch {
        // already closed
      }
    }
    if (this.#quic !== undefined) this.#acceptLoops.push(this.#quic.stop());
    for (const conn of this.#handshaking) closeQuietly(conn);
    for (const resume of this.#handshakeSettled.splice(0)) resume(); // paused accept loops end
    for (const c of this.#conns) c.drain();
    const t = this.options.drainTimeout;
    this.#drainTimer = setTimeout(() => {
      // What is left is cut off. A handler that never returns keeps its promise, but not the
      // connection: the socket is closed and the server stops waiting for it.
      for (const c of [...this.#conns]) {
        c.abort();
        this.closed(c);
      }
    }, t * 1000);
    this.#maybeFinished();
  }

  async #maybeFinished(): Promise<void> {
    if (this.#stopped || this.#conns.size > 0) return;
    this.#stopped = true;
    clearInterval(this.#sweeper);
    clearTimeout(this.#drainTimer);
    await Promise.allSettled(this.#acceptLoops);
    this.#quic?.close();
    try {
      await this.#stopping?.().catch((e) => this.log.error("stopping failed", { error: String(e) }));
      for (const m of this.#mounts) m.close?.(); // upstream pools: health checks, kept connections
      await this.log.close();
    } catch {
      // a log file that cannot be closed must not keep the server from stopping
    } finally {
      this.#resolveFinished();
    }
  }

  /**
   * Replaces the default certificate and key of the HTTPS listener (SIGHUP). The new pair is
   * checked on a throwaway listener first; then the listener is replaced (see `#swapListener`).
   * Open connections keep their sessions; new ones get the new certificate.
   */
  async reloadTls(material: TlsMaterial): Promise<void> {
    const probe = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert: material.cert, key: material.key });
    probe.close();
    this.#certs.setDefault(material);
    await this.#swapListener();
  }

  /**
   * Serves `material` (a full chain, leaf first, and its key) to new TLS connections that ask for
   * `name` by SNI (automatic HTTPS). Changes made together are served by one listener swap.
   */
  setCertificate(name: string, material: TlsMaterial): Promise<void> {
    this.#certs.set(name, material);
    return this.#swapListener();
  }

  /** Names with their own certificate ({@linkcode Server.setCertificate}). */
  get certificateNames(): string[] {
    return this.#certs.names();
  }

  /** Queues one listener swap behind any running one; calls made meanwhile share it. */
  #swapListener(): Promise<void> {
    if (this.#swapQueued) return this.#swapping;
    this.#swapQueued = true;
    this.#swapping = this.#swapping.catch(() => {}).then(() => {
      this.#swapQueued = false;
      return this.#replaceTlsListener();
    });
    return this.#swapping;
  }

  /**
   * Opens a new HTTPS listener built from the certificate store as it is now, beside the old one
   * (both have SO_REUSEPORT), then closes the old: no moment without a listener, so no client is
   * refused (Deno's SNI resolver caches per listener, so a new listener is also how per-name
   * changes take effect).
   */
  async #replaceTlsListener(): Promise<void> {
    const i = this.#listeners.findIndex((l) => l.secure);
    if (i < 0 || this.#draining) return;
    const old = this.#listeners[i];
    const addr = old.listener.addr as Deno.NetAddr;
    const listener = this.#listenTls(addr.hostname, addr.port);
    const entry = { listener, secure: true, loop: this.#accept(listener, true) };
    this.#listeners[i] = entry;
    this.#acceptLoops.push(entry.loop);
    await this.#retiring.retire(old.listener, old.loop);
  }

  /**
   * The HTTPS listener on `hostname`:`port`, built from the certificate store as it is now: the
   * default pair and the per-name ones (SNI), ALPN `h2` when HTTP/2 is on, and SO_REUSEPORT (see
   * {@linkcode Server.#replaceTlsListener}).
   */
  #listenTls(hostname: string, port: number): Deno.Listener {
    return Deno.listenTls(
      {
        hostname,
        port,
        ...this.#certs.listenOptions(),
        alpnProtocols: this.options.http2 ? ["h2", "http/1.1"] : ["http/1.1"],
        ...(UNSTABLE_NET ? { reusePort: true } : {}),
      } as Deno.ListenTlsOptions & Deno.TlsCertifiedKeyPem,
    );
  }

  /** Part of {@linkcode ConnectionContext}: HSTS for TLS responses, and Alt-Svc when {@linkcode Server.altSvc} is on. */
  get secureHead(): Uint8Array | undefined {
    return this.#altSvc !== undefined && !this.#certs.hasNames ? this.#h3Head : this.#secureHead;
  }

  /**
   * Part of {@linkcode ConnectionContext}: with `--http3`, the Alt-Svc of TCP TLS responses; none
   * once names have their own certificates, which the QUIC listener (one certificate) cannot serve.
   */
  get altSvc(): string | undefined {
    return this.#certs.hasNames ? undefined : this.#altSvc;
  }

  /** Part of {@linkcode ConnectionContext}: the HTTP→HTTPS redirect, when on. */
  get redirectMount(): Mount | undefined {
    return this.#redirect;
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}
