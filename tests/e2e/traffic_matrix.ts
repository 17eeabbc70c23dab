/**
 * The traffic matrix as data: ordinary and hostile traffic shapes (rows), each run over every
 * transport ferry speaks (columns) by `traffic_matrix_test.ts`, the client side in
 * `traffic_client.py` (HTTP/1.1, HTTP/2) and `traffic_client_h3.ts` (HTTP/3), directly and through
 * ferry's reverse proxy. A new protocol or path is one more entry of {@linkcode TRANSPORTS}; a new
 * shape is one more entry of {@linkcode SHAPES}.
 *
 * @module
 */

import assert from "assert";

/** How the client reaches ferry. */
export interface Transport {
  /** Column name. */
  name: string;
  /**
   * The client's protocol and security: `traffic_client.py`'s PROTO, or `h3` (HTTP/3 over Deno's
   * QUIC, `traffic_client_h3.ts`: Python has no QUIC library here).
   */
  proto: "h1" | "h1s" | "h2" | "h2c" | "h3";
  /** Which of ferry's listeners it talks to (HTTP/3: UDP at the HTTPS port's number). */
  listener: "http" | "https";
  /** Whether it multiplexes streams (HTTP/2, HTTP/3): the shapes of resets and streams apply. */
  streams: boolean;
  /**
   * Whether the client talks to a second ferry that proxies every path (`--proxy /=`) to the one
   * serving the matrix's app: the memory measured, the server signalled and the counters read
   * are the proxying ferry's, and after each shape every upstream request it began has ended and
   * none counted as the upstream's failure (the client misbehaved, not the upstream).
   */
  proxied?: boolean;
}

/** The columns. */
export const TRANSPORTS: readonly Transport[] = [
  { name: "HTTP/1.1", proto: "h1", listener: "http", streams: false },
  { name: "HTTP/1.1 TLS", proto: "h1s", listener: "https", streams: false },
  { name: "HTTP/2 TLS", proto: "h2", listener: "https", streams: true },
  { name: "h2c", proto: "h2c", listener: "http", streams: true },
  { name: "HTTP/3", proto: "h3", listener: "https", streams: true },
  { name: "proxy, HTTP/1.1", proto: "h1", listener: "http", streams: false, proxied: true },
  { name: "proxy, HTTP/2 TLS", proto: "h2", listener: "https", streams: true, proxied: true },
];

/** The server's timeouts for the matrix: small, so the slow shapes end soon. */
export const TIMEOUTS = { bodyTimeout: 2, minBodyRate: 1000 } as const;

/** What a row's check is given besides the client's output. */
export interface RowContext {
  /** The column. */
  transport: Transport;
  /** ferry's resident memory before the shape, and the most seen while the client held it. */
  rss: { before: number; peak: number };
  /** What a fresh request on a new connection got after the shape (status). */
  fresh: number;
  /** Streams ferry served during the shape (`/_metrics` `http2.streams_total`, or `http3.` over HTTP/3). */
  streams: number;
  /** GOAWAY ENHANCE_YOUR_CALM ferry sent during the shape (`/_metrics` `http2.goaways_sent`). */
  calm: number;
  /**
   * Bytes the matrix's app's ferry wrote during the shape (`/_metrics` `bytes_out`); behind the
   * proxy, what it sent to the proxy.
   */
  sent: number;
}

/** One traffic shape. */
export interface Shape {
  /** Row name. */
  name: string;
  /** `traffic_client.py`'s SHAPE. */
  shape: string;
  /** Its parameters. */
  params: Record<string, unknown>;
  /** Parameters that differ for a column, over `params` (the column's reason beside them). */
  tuned?: (t: Transport) => Record<string, unknown> | undefined;
  /** The columns it applies to (all by default). */
  applies?: (t: Transport) => boolean;
  /**
   * Its columns run at once: the shape mostly waits (for the server's timeouts, or its own
   * server's drain), and its check reads no counter that another column moves.
   */
  together?: boolean;
  /** The shape waits for the test once in place: memory is sampled, or the server is signalled. */
  hold?: "measure" | "sigterm";
  /** Checks the outcome. */
  check(out: Record<string, unknown>, ctx: RowContext): void;
}

const MiB = 1024 * 1024;
/** RSS a connection may add, whatever its client sends. */
export const RSS_BUDGET = 64 * MiB;
const PROTOCOL_ERROR = 1;
const ENHANCE_YOUR_CALM = 0xb;

/** A request rejected as HTTP/1.1 rejects it: a status, or over HTTP/2 a reset with PROTOCOL_ERROR. */
function rejected(r: { status: number; reset: number | null }, status: number, t: Transport): boolean {
  if (r.status === status) return true;
  return t.streams && status === 400 && r.reset === PROTOCOL_ERROR;
}

/** The rows. */
export const SHAPES: readonly Shape[] = [
  {
    name: "100 requests on one connection after a 20 KB POST",
    shape: "keepalive",
    params: { first: "post", bytes: 20_000, n: 100 },
    check(out) {
      assert.equal(out.first, 200);
      assert.equal(out.first_body, "POST 20000");
      assert.equal(out.ok, 100, JSON.stringify(out));
    },
  },
  {
    name: "100 requests on one connection after a 15 KB cookie",
    shape: "keepalive",
    params: { first: "cookie", bytes: 15_000, n: 100 },
    check(out) {
      assert.equal(out.first, 200);
      assert.equal(out.ok, 100, JSON.stringify(out));
    },
  },
  {
    name: "64 MiB upload",
    shape: "upload",
    params: { bytes: 64 * MiB },
    check(out) {
      assert.equal(out.status, 200);
      assert.equal(out.body, `PUT ${64 * MiB}`);
    },
  },
  {
    name: "64 MiB download",
    shape: "download",
    params: { bytes: 64 * MiB },
    check(out) {
      assert.equal(out.status, 200);
      assert.equal(out.bytes, 64 * MiB);
      assert.equal(out.all_b, 64 * MiB);
    },
  },
  {
    name: "a 64 MiB download given up after 1 MiB (a reset, or over HTTP/1.1 a close), then a request",
    shape: "abandon",
    // The next request goes on the same connection, but over HTTP/1.1, where giving up a response
    // means closing its connection.
    params: { bytes: 64 * MiB, after: MiB },
    check(out, { sent }) {
      assert.ok((out.got as number) >= MiB, JSON.stringify(out));
      // The rest was never produced: the server (and through the proxy, the upstream) stopped
      // once the client left, after what windows and buffers held (HTTP/2's client window is 16 MiB).
      assert.ok(sent < 32 * MiB, `${(sent / MiB).toFixed(1)} MiB sent of the 64 MiB given up after 1 MiB`);
      assert.equal(out.next, 200, JSON.stringify(out));
      assert.equal(out.next_body, "GET 0", JSON.stringify(out));
    },
  },
  {
    name: "a body trickled below --min-body-rate is ended by the server",
    shape: "trickle",
    // 4 bytes/s against a floor of 1000 bytes/s: ended about --body-timeout after it began; the
    // client gives up after 20 s (80 bytes), which would be the server's failure.
    params: { bytes: 10_000, every: 0.25, give_up: 20 },
    together: true,
    check(out, { transport }) {
      const ended = out.status === 408 || (transport.streams ? out.reset !== null : out.closed === true);
      assert.ok(ended, `the server ended the trickle: ${JSON.stringify(out)}`);
      assert.ok((out.sent as number) < 80, `ended before the client gave up: ${JSON.stringify(out)}`);
    },
  },
  {
    name: "a client that never reads, asking for many cached files, holds bounded memory",
    shape: "nonreader",
    params: { path: "/static/1m.bin", n: 2000 },
    hold: "measure",
    check(out, { rss, fresh }) {
      assert.ok((out.sent as number) > 0);
      const grew = rss.peak - rss.before;
      assert.ok(grew < RSS_BUDGET, `RSS grew by ${(grew / MiB).toFixed(1)} MiB`);
      assert.equal(fresh, 200);
    },
  },
  {
    name: "opens and resets at once: GOAWAY ENHANCE_YOUR_CALM over HTTP/2, bounded memory over HTTP/3",
    shape: "burst",
    // A small cached file: its handler answers within the read that opened the stream, before
    // the stream's reset is seen.
    params: { path: "/static/4k.bin", n: 20_000 },
    // HTTP/1.1 has no streams to reset (a client can only close its connection).
    applies: (t) => t.streams,
    // HTTP/3: QUIC's MAX_STREAMS (--h3-max-streams) lets a client open only the streams ferry
    // grants, so 20,000 cannot go in one write: 2,000 go as fast as the grants come, each reset
    // (RESET_STREAM and STOP_SENDING) as soon as its HEADERS are written. There is no HTTP/3
    // GOAWAY for it: what a client can open at once is QUIC's bound.
    tuned: (t) => t.proto === "h3" ? { n: 2000 } : undefined,
    hold: "measure",
    check(out, { transport, rss, fresh, streams, calm }) {
      if (transport.proto === "h3") {
        assert.equal(out.opened, 2000, JSON.stringify(out));
        assert.ok(streams <= 2000, `${streams} HTTP/3 streams for 2,000 opened`);
      } else {
        // Sent by ferry; the client may miss it when the connection's end (after a bounded
        // linger) resets what it still sends.
        assert.equal(calm, 1, JSON.stringify(out));
        if (!out.closed) assert.equal(out.goaway, ENHANCE_YOUR_CALM, JSON.stringify(out));
        // Every reset counts against the budget (400 per 10 s), those of streams already answered too.
        assert.ok(streams <= 1000, `${streams} streams served before the GOAWAY`);
      }
      const grew = rss.peak - rss.before;
      assert.ok(grew < RSS_BUDGET, `RSS grew by ${(grew / MiB).toFixed(1)} MiB`);
      assert.equal(fresh, 200);
    },
  },
  {
    name: "drain: a body still arriving at SIGTERM is read to its end and answered",
    shape: "drain",
    // An echo: the response streams while the request body still arrives, as a proxy's would.
    params: { path: "/echo", parts: ["part1-", "part2-", "part3-"], pause: 0.3 },
    hold: "sigterm",
    together: true, // each column stops a ferry of its own
    check(out) {
      assert.equal(out.status, 200, JSON.stringify(out));
      assert.equal(out.body, "part1-part2-part3-", JSON.stringify(out));
    },
  },
  {
    name: "bad methods: 400 (or a malformed stream) and 501 as HTTP/1.1 answers them",
    shape: "methods",
    params: { methods: ["G ET", "", "GET;x", "FOO", "GET"] },
    check(out, { transport }) {
      type R = { method: string; status: number; reset: number | null };
      const r = out.results as R[];
      for (const bad of r.slice(0, 3)) assert.ok(rejected(bad, 400, transport), JSON.stringify(bad));
      assert.equal(r[3].status, 501, JSON.stringify(r[3]));
      assert.equal(r[4].status, 200, JSON.stringify(r[4]));
    },
  },
  {
    name: "an HTTP/2 or HTTP/3 request carrying `upgrade` is malformed (RFC 9113 §8.2.2, RFC 9114 §4.2)",
    shape: "methods",
    params: { methods: ["GET"], extra: [["upgrade", "websocket"]] },
    // HTTP/1.1's `Upgrade` is its own (WebSocket), not a malformed request.
    applies: (t) => t.streams,
    check(out, { transport }) {
      const [r] = out.results as Array<{ status: number; reset: number | null }>;
      // HTTP/3 answers 400 with the reason: Deno's QUIC resets a stream with no error code.
      if (transport.proto === "h3") assert.equal(r.status, 400, JSON.stringify(r));
      else assert.equal(r.reset, PROTOCOL_ERROR, JSON.stringify(r));
    },
  },
];
