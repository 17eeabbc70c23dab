// deno-fmt-ignore-file
/**
 * ferry's RFC 9113 cases, in the manner of h2spec's catalogue (read for its cases; written
 * here): the frames a client sends, and what the server must answer. Replayed through the
 * session at every split point (`conformance_test.ts`) and against a live server over h2c.
 *
 * @module
 */

import { type Client, concat, FLAG, FRAME, frame, get, PREFACE } from "./frame_kit.ts";

/** The error codes used below. */
export const E = {
  NO_ERROR: 0,
  PROTOCOL_ERROR: 1,
  FLOW_CONTROL_ERROR: 3,
  STREAM_CLOSED: 5,
  FRAME_SIZE_ERROR: 6,
  REFUSED_STREAM: 7,
  COMPRESSION_ERROR: 9,
  ENHANCE_YOUR_CALM: 0xb,
} as const;

/** What the server must do. */
export type Outcome =
  /** A GOAWAY with this code (a connection error). */
  | { goaway: number }
  /** RST_STREAM with this code on this stream (a stream error; the connection stays). */
  | { rst: number; stream: number }
  /** This stream's error: RST_STREAM or GOAWAY, with this code. */
  | { error: number; stream: number }
  /** A response on this stream with this status. */
  | { status: string; stream: number }
  /** The first DATA frame on this stream has this length. */
  | { dataLength: number; stream: number }
  /** The frames were accepted: a PING sent after them is answered, no GOAWAY, no RST_STREAM. */
  | { alive: true };

/** One case. */
export interface ConformanceCase {
  /** The RFC 9113 section. */
  section: string;
  /** What is sent. */
  name: string;
  /** The bytes, from the preface on. */
  send: (c: Client) => Uint8Array;
  /** The server's answer. */
  expect: Outcome;
  /** Only through the session: over h2c, bytes that are not the preface are HTTP/1.1's. */
  sessionOnly?: true;
}

const S = { HEADER_TABLE_SIZE: 1, ENABLE_PUSH: 2, MAX_CONCURRENT: 3, INITIAL_WINDOW: 4, MAX_FRAME: 5 };

/** The cases. */
export const CASES: ConformanceCase[] = [
  // §3.4 preface
  { section: "3.4", name: "the preface and SETTINGS, then a GET", send: (c) => concat([c.start(), c.headers(1, get())]), expect: { status: "200", stream: 1 } },
  { section: "3.4", name: "an invalid preface", send: () => new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + "\0".repeat(9)), expect: { goaway: E.PROTOCOL_ERROR }, sessionOnly: true },
  { section: "3.4", name: "a frame other than SETTINGS first", send: (c) => concat([PREFACE, c.ping()]), expect: { goaway: E.PROTOCOL_ERROR } },
  // §4.1 frame format
  { section: "4.1", name: "a frame of unknown type is ignored", send: (c) => concat([c.start(), frame(0x20, 0, 0, [1, 2, 3])]), expect: { alive: true } },
  { section: "4.1", name: "an undefined flag is ignored", send: (c) => concat([c.start(), frame(FRAME.PING, 0x16, 0, [1, 2, 3, 4, 5, 6, 7, 8])]), expect: { alive: true } },
  { section: "4.1", name: "the reserved bit is ignored", send: (c) => { const h = c.headers(1, get()); h[5] |= 0x80; return concat([c.start(), h]); }, expect: { status: "200", stream: 1 } },
  // §4.2 frame size
  { section: "4.2", name: "DATA of 2^14 octets", send: (c) => concat([c.start(), c.headers(1, [...get("/", [["content-length", "16384"]])].map(([n, v]) => n === ":method" ? [n, "POST"] as [string, string] : [n, v]), { end: false }), c.data(1, new Uint8Array(16384), true)]), expect: { status: "200", stream: 1 } },
  { section: "4.2", name: "DATA over SETTINGS_MAX_FRAME_SIZE", send: (c) => concat([c.start(), c.headers(1, get(), { end: false }), c.data(1, new Uint8Array(16385), true)]), expect: { goaway: E.FRAME_SIZE_ERROR } },
  { section: "4.2", name: "HEADERS over SETTINGS_MAX_FRAME_SIZE", send: (c) => concat([c.start(), c.headers(1, get("/", [["x", "~".repeat(16400)]]))]), expect: { goaway: E.FRAME_SIZE_ERROR } },
  // §4.3 header compression
  { section: "4.3", name: "an invalid header block", send: (c) => concat([c.start(), frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 1, [0x00, 0x01, 0x61])]), expect: { goaway: E.COMPRESSION_ERROR } },
  { section: "4.3", name: "an index past the tables", send: (c) => concat([c.start(), frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 1, [0xff, 0x7f])]), expect: { goaway: E.COMPRESSION_ERROR } },
  { section: "4.3", name: "PRIORITY in the middle of a header block", send: (c) => concat([c.start(), c.headers(1, get(), { endHeaders: false }), c.priority(1, 0)]), expect: { goaway: E.PROTOCOL_ERROR } },
  { section: "4.3", name: "HEADERS to another stream in the middle of a header block", send: (c) => concat([c.start(), c.headers(1, get(), { endHeaders: false }), c.headers(3, get())]), expect: { goaway: E.PROTOCOL_ERROR } },
  // §5.1 stream states
  { section: "5.1", name: "idle: DATA", send: (c) => concat([c.start(), c.data(1, [1])]), expect: { goaway: E.PROTOCOL_ERROR } },
  { section: "5.1", name: "idle: RST_STREAM", send: (c) => concat([c.start(), c.rst(1)]), expect: { goaway: E.PROTOCOL_ERROR } },
  { section: "5.1", name: "idle: WINDOW_UPDATE", send: (c) => concat([c.start(), c.windowUpdate(1, 100)]), expect: { goaway: E.PROTOCOL_ERROR } },
  { section: "5.1", name: "idle: CONTINUATION", send: (c) => concat([c.start(), frame(FRAME.CONTINUATION, FLAG.END_HEADERS, 1, c.block(get()))]), expect: { goaway: E.PROTOCOL_ERROR } },
  { section: "5.1", name: "half closed (remote): DATA", send: (c) => concat([c.start(), c.headers(1, get("/slow")), c.data(1, [1])]), expect: { error: E.STREAM_CLOSED, stream: 1 } },
  { section: "5.1", name: "half closed (remote): HEADERS", send: (c) => concat([c.start(), c.headers(1, get("/slow")), c.headers(1, get("/slow"))]), expect: { error: E.STREAM_CLOSED, stream: 1 } },
  { section: "5.1", name: "closed: DATA after the client's RST_STREAM", send: (c) => concat([c.start(), c.headers(1, get(), { end: false }), c.rst(1), c.data(1, [1])]), expect: { error: E.STREAM_CLOSED, stream: 1 } },
  { section: "5.1", name: "closed: HEADERS after the client's RST_STREAM", send: (c) => concat([c.start(), c.headers(1, get(), { end: false }), c.rst(1), c.headers(1, get())]), expect: { goaway: E.STREAM_CLOSED } },
  { section: "5.1", name: "closed: CONTINUATION after the client's RST_STREAM", send: (c) => concat([c.start(), c.headers(1, get(), { end: false }), c.rst(1), frame(FRAME.CONTINUATION, FLAG.END_HEADERS, 1, [0x82])]), expect: { goaway: E.PROTOCOL_ERROR } },
  { section: "5.1", name: "RST_STREAM on a closed stream is ignored", send: (c) => concat([c.start(), c.headers(1, get(), { end: false }), c.rst(1), c.rst(1)]), expect: { alive: true } },
  { section: "5.1", name: "WINDOW_UPDATE on a closed stream is ignored", send: (c) => concat([c.start(), c.headers(1, get(), { end: false }), c.rst(1), c.windowUpdate(1, 10)]), expect: { alive: true } },
  { section: "5.1.1", name: "an even stream id", send: (c) => concat([c.start(), c.headers(2, get())]), expect: { goaway: E.PROTOCOL_ERROR } },
  { section: "5.1.1", name: "a stream id smaller than the last", send: (c) => concat([c.start(), c.headers(5, get()), c.headers(3, get())]), expect: { goaway: E.PROTOCOL_ERROR } },
  { section: "5.1.2", name: "streams over SETTINGS_MAX_CONCURRENT_STREAMS", send: (c) => concat([c.start(), ...Array.from({ length: 130 }, (_, i) => c.headers(1 + 2 * i, get("/slow"), { end: false }))]), expect: { rst: E.REFUSED_STREAM, stream: 257 } },
  // §5.3
  { section: "5.3.1", name: "HEADERS that depends on itself", send: (c) => concat([c.start(), c.headers(1, get(), { dependsOn: 1 })]), expect: { error: E.PROTOCOL_ERROR, stream: 1 } },
  { section: "5.3.1", name: "PRIORITY that depends on itself", send: (c) => concat([c.start(), c.priority(1, 1)]), expect: { error: E.PROTOCOL_ERROR, stream: 1 } },
  { section: "5.3.2", name: "PRIORITY on an idle stream is accepted", send: (c) => concat([c.start(), c.priority(7, 0), c.headers(1, get())]), expect: { status: "200", stream: 1 } },
  // §5.4
  { section: "5.4.1", name: "an invalid PING ends the connection with GOAWAY", send: (c) => concat([c.start(), frame(FRAME.PING, 0, 0, [1, 2, 3])]), expect: { goaway: E.FRAME_SIZE_ERROR } },
  // §6.1 DATA
  { section: "6.1", name: "DATA on stream 0", send: (c) => concat([c.start(), c.data(0, [1])]), expect: { goaway: E.PROTOCOL_ERROR } },
  { section: "6.1", name: "DATA with a pad length past the payload", send: (c) => concat([c.start(), c.headers(1, get(), { end: false }), frame(FRAME.DATA, FLAG.PADDED, 1, [5, 1, 2])]), expect: { goaway: E.PROTOCOL_ERROR } },
  // §6.2 HEADERS
  { section: "6.2", name: "HEADERS without END_HEADERS, then PRIORITY", send: (c) => concat([c.start(), c.headers(1, get(), { endHeaders: false }), c.priority(1, 0)]), expect: { goaway: E.PROTOCOL_ERROR } },
  { section: "6.2", name: "HEADERS on stream 0", send: (c) => concat([c.start(), c.headers(0, get())]), expect: { goaway: E.PROTOCOL_ERROR } },
  { section: "6.2", name: "HEADERS with a pad length past the payload", send: (c) => { const h = c.headers(1, get(), { pad: 0 }); h[9] = 200; return concat([c.start(), h]); }, expect: { goaway: E.PROTOCOL_ERROR } },
  { section: "6.2", name: "padded HEADERS", send: (c) => concat([c.start(), c.headers(1, get(), { pad: 6 })]), expect: { status: "200", stream: 1 } },
  // §6.3 PRIORITY
  { section: "6.3", name: "PRIORITY on stream 0", send: (c) => concat([c.start(), c.priority(0, 1)]), expect: { goaway: E.PROTOCOL_ERROR } },
  { section: "6.3", name: "PRIORITY of 4 octets", send: (c) => concat([c.start(), c.priority(1, 0, 4)]), expect: { error: E.FRAME_SIZE_ERROR, stream: 1 } },
  // §6.4 RST_STREAM
  { section: "6.4", name: "RST_STREAM on stream 0", send: (c) => concat([c.start(), c.rst(0)]), expect: { goaway: E.PROTOCOL_ERROR } },
  { section: "6.4", name: "RST_STREAM of 3 octets", send: (c) => concat([c.start(), c.headers(1, get(), { end: false }), frame(FRAME.RST_STREAM, 0, 1, [0, 0, 8])]), expect: { goaway: E.FRAME_SIZE_ERROR } },
  { section: "6.4", name: "RST_STREAM with an unknown code", send: (c) => concat([c.start(), c.headers(1, get(), { end: false }), c.rst(1, 0xff)]), expect: { alive: true } },
  // §6.5 SETTINGS
  { section: "6.5", name: "SETTINGS is answered with ACK", send: (c) => concat([c.start(), c.headers(1, get())]), expect: { status: "200", stream: 1 } },
  { section: "6.5", name: "SETTINGS ACK with a payload", send: (c) => concat([c.start(), c.settings([[S.MAX_CONCURRENT, 1]], FLAG.ACK)]), expect: { goaway: E.FRAME_SIZE_ERROR } },
  { section: "6.5", name: "SETTINGS on a stream", send: (c) => concat([c.start(), c.settings([], 0, 1)]), expect: { goaway: E.PROTOCOL_ERROR } },
  { section: "6.5", name: "SETTINGS of 5 octets", send: (c) => concat([c.start(), frame(FRAME.SETTINGS, 0, 0, [0, 3, 0, 0, 0])]), expect: { goaway: E.FRAME_SIZE_ERROR } },
  { section: "6.5.2", name: "ENABLE_PUSH of 2", send: (c) => concat([c.start(), c.settings([[S.ENABLE_PUSH, 2]])]), expect: { goaway: E.PROTOCOL_ERROR } },
  { section: "6.5.2", name: "INITIAL_WINDOW_SIZE over 2^31-1", send: (c) => concat([c.start(), c.settings([[S.INITIAL_WINDOW, 0x80000000]])]), expect: { goaway: E.FLOW_CONTROL_ERROR } },
  { section: "6.5.2", name: "MAX_FRAME_SIZE under 16384", send: (c) => concat([c.start(), c.settings([[S.MAX_FRAME, 16383]])]), expect: { goaway: E.PROTOCOL_ERROR } },
  { section: "6.5.2", name: "MAX_FRAME_SIZE over 2^24-1", send: (c) => concat([c.start(), c.settings([[S.MAX_FRAME, 0x1000000]])]), expect: { goaway: E.PROTOCOL_ERROR } },
  { section: "6.5.2", name: "an unknown setting is ignored", send: (c) => concat([c.start(), c.settings([[0xff, 1]])]), expect: { alive: true } },
  { section: "6.5.3", name: "the last of several INITIAL_WINDOW_SIZE values holds", send: (c) => concat([c.start([[S.INITIAL_WINDOW, 100], [S.INITIAL_WINDOW, 1]]), c.headers(1, get())]), expect: { dataLength: 1, stream: 1 } },
  // §6.7 PING
  { section: "6.7", name: "PING is answered", send: (c) => c.start(), expect: { alive: true } },
  { section: "6.7", name: "a PING ACK is not answered", send: (c) => concat([c.start(), c.ping(true)]), expect: { alive: true } },
  { section: "6.7", name: "PING on a stream", send: (c) => concat([c.start(), c.ping(false, 1)]), expect: { goaway: E.PROTOCOL_ERROR } },
  { section: "6.7", name: "PING of 6 octets", send: (c) => concat([c.start(), c.ping(false, 0, [1, 2, 3, 4, 5, 6])]), expect: { goaway: E.FRAME_SIZE_ERROR } },
  // §6.8 GOAWAY
  { section: "6.8", name: "GOAWAY on a stream", send: (c) => concat([c.start(), frame(FRAME.GOAWAY, 0, 1, [0, 0, 0, 0, 0, 0, 0, 0])]), expect: { goaway: E.PROTOCOL_ERROR } },
  // §6.9 WINDOW_UPDATE
  { section: "6.9", name: "WINDOW_UPDATE of 0 on the connection", send: (c) => concat([c.start(), c.windowUpdate(0, 0)]), expect: { goaway: E.PROTOCOL_ERROR } },
  { section: "6.9", name: "WINDOW_UPDATE of 0 on a stream", send: (c) => concat([c.start(), c.headers(1, get("/slow"), { end: false }), c.windowUpdate(1, 0)]), expect: { error: E.PROTOCOL_ERROR, stream: 1 } },
  { section: "6.9", name: "WINDOW_UPDATE of 3 octets", send: (c) => concat([c.start(), frame(FRAME.WINDOW_UPDATE, 0, 0, [0, 0, 1])]), expect: { goaway: E.FRAME_SIZE_ERROR } },
  { section: "6.9.1", name: "connection window over 2^31-1", send: (c) => concat([c.start(), c.windowUpdate(0, 0x7fffffff), c.windowUpdate(0, 0x7fffffff)]), expect: { goaway: E.FLOW_CONTROL_ERROR } },
  { section: "6.9.1", name: "stream window over 2^31-1", send: (c) => concat([c.start(), c.headers(1, get("/slow"), { end: false }), c.windowUpdate(1, 0x7fffffff), c.windowUpdate(1, 0x7fffffff)]), expect: { error: E.FLOW_CONTROL_ERROR, stream: 1 } },
  { section: "6.9.2", name: "INITIAL_WINDOW_SIZE 1: one octet of DATA", send: (c) => concat([c.start([[S.INITIAL_WINDOW, 1]]), c.headers(1, get())]), expect: { dataLength: 1, stream: 1 } },
  { section: "6.9.2", name: "a window made negative by SETTINGS, then restored", send: (c) => concat([c.start([[S.INITIAL_WINDOW, 0]]), c.headers(1, get()), c.settings([[S.INITIAL_WINDOW, 3]])]), expect: { dataLength: 3, stream: 1 } },
  // §6.10 CONTINUATION
  { section: "6.10", name: "HEADERS then CONTINUATION frames", send: (c) => { const b = c.block(get()); return concat([c.start(), frame(FRAME.HEADERS, FLAG.END_STREAM, 1, b.subarray(0, 2)), frame(FRAME.CONTINUATION, 0, 1, b.subarray(2, 4)), frame(FRAME.CONTINUATION, FLAG.END_HEADERS, 1, b.subarray(4))]); }, expect: { status: "200", stream: 1 } },
  { section: "6.10", name: "CONTINUATION followed by DATA", send: (c) => concat([c.start(), c.headers(1, get(), { endHeaders: false, end: false }), c.data(1, [1])]), expect: { goaway: E.PROTOCOL_ERROR } },
  { section: "6.10", name: "CONTINUATION on stream 0", send: (c) => concat([c.start(), c.headers(1, get(), { endHeaders: false }), frame(FRAME.CONTINUATION, FLAG.END_HEADERS, 0, [])]), expect: { goaway: E.PROTOCOL_ERROR } },
  { section: "6.10", name: "CONTINUATION after END_HEADERS", send: (c) => concat([c.start(), c.headers(1, get("/slow")), frame(FRAME.CONTINUATION, FLAG.END_HEADERS, 1, [0x82])]), expect: { goaway: E.PROTOCOL_ERROR } },
  { section: "6.10", name: "CONTINUATION after DATA", send: (c) => concat([c.start(), c.headers(1, get(), { end: false }), c.data(1, [1]), frame(FRAME.CONTINUATION, FLAG.END_HEADERS, 1, [0x82])]), expect: { goaway: E.PROTOCOL_ERROR } },
  // §8 messages
  { section: "8.1", name: "trailers", send: (c) => concat([c.start(), c.headers(1, [[":method", "POST"], [":scheme", "http"], [":path", "/"], [":authority", "x"]], { end: false }), c.data(1, [1, 2]), c.headers(1, [["x-sum", "3"]])]), expect: { status: "200", stream: 1 } },
  { section: "8.1", name: "a second HEADERS without END_STREAM", send: (c) => concat([c.start(), c.headers(1, get(), { end: false }), c.headers(1, [["x-a", "1"]], { end: false })]), expect: { error: E.PROTOCOL_ERROR, stream: 1 } },
  { section: "8.1", name: "pseudo-header in trailers", send: (c) => concat([c.start(), c.headers(1, get(), { end: false }), c.headers(1, [[":path", "/"]])]), expect: { error: E.PROTOCOL_ERROR, stream: 1 } },
  { section: "8.1.1", name: "content-length larger than DATA", send: (c) => concat([c.start(), c.headers(1, [[":method", "POST"], [":scheme", "http"], [":path", "/"], ["content-length", "10"]], { end: false }), c.data(1, [1, 2, 3], true)]), expect: { error: E.PROTOCOL_ERROR, stream: 1 } },
  { section: "8.1.1", name: "content-length smaller than the sum of DATA", send: (c) => concat([c.start(), c.headers(1, [[":method", "POST"], [":scheme", "http"], [":path", "/"], ["content-length", "2"]], { end: false }), c.data(1, [1, 2]), c.data(1, [3], true)]), expect: { error: E.PROTOCOL_ERROR, stream: 1 } },
  { section: "8.2.1", name: "an upper-case field name", send: (c) => concat([c.start(), c.headers(1, get("/", [["X-Upper", "1"]]))]), expect: { error: E.PROTOCOL_ERROR, stream: 1 } },
  { section: "8.2.2", name: "a connection-specific field", send: (c) => concat([c.start(), c.headers(1, get("/", [["connection", "keep-alive"]]))]), expect: { error: E.PROTOCOL_ERROR, stream: 1 } },
  { section: "8.2.2", name: "te other than trailers", send: (c) => concat([c.start(), c.headers(1, get("/", [["te", "gzip"]]))]), expect: { error: E.PROTOCOL_ERROR, stream: 1 } },
  { section: "8.2.2", name: "te: trailers is allowed", send: (c) => concat([c.start(), c.headers(1, get("/", [["te", "trailers"]]))]), expect: { status: "200", stream: 1 } },
  { section: "8.3", name: "an unknown pseudo-header", send: (c) => concat([c.start(), c.headers(1, [...get(), [":foo", "x"]])]), expect: { error: E.PROTOCOL_ERROR, stream: 1 } },
  { section: "8.3", name: "a response pseudo-header", send: (c) => concat([c.start(), c.headers(1, [...get(), [":status", "200"]])]), expect: { error: E.PROTOCOL_ERROR, stream: 1 } },
  { section: "8.3", name: "a pseudo-header after a regular field", send: (c) => concat([c.start(), c.headers(1, [[":method", "GET"], [":scheme", "http"], ["x-a", "1"], [":path", "/"]])]), expect: { error: E.PROTOCOL_ERROR, stream: 1 } },
  { section: "8.3.1", name: "an empty :path", send: (c) => concat([c.start(), c.headers(1, [[":method", "GET"], [":scheme", "http"], [":path", ""]])]), expect: { error: E.PROTOCOL_ERROR, stream: 1 } },
  { section: "8.3.1", name: "no :method", send: (c) => concat([c.start(), c.headers(1, [[":scheme", "http"], [":path", "/"]])]), expect: { error: E.PROTOCOL_ERROR, stream: 1 } },
  { section: "8.3.1", name: "no :scheme", send: (c) => concat([c.start(), c.headers(1, [[":method", "GET"], [":path", "/"]])]), expect: { error: E.PROTOCOL_ERROR, stream: 1 } },
  { section: "8.3.1", name: "no :path", send: (c) => concat([c.start(), c.headers(1, [[":method", "GET"], [":scheme", "http"]])]), expect: { error: E.PROTOCOL_ERROR, stream: 1 } },
  { section: "8.3.1", name: "two :method", send: (c) => concat([c.start(), c.headers(1, [[":method", "GET"], ...get()])]), expect: { error: E.PROTOCOL_ERROR, stream: 1 } },
  { section: "8.3.1", name: "two :scheme", send: (c) => concat([c.start(), c.headers(1, [[":scheme", "http"], ...get()])]), expect: { error: E.PROTOCOL_ERROR, stream: 1 } },
  { section: "8.3.1", name: "two :path", send: (c) => concat([c.start(), c.headers(1, [[":path", "/"], ...get()])]), expect: { error: E.PROTOCOL_ERROR, stream: 1 } },
  { section: "8.3.1", name: "an :authority with userinfo", send: (c) => concat([c.start(), c.headers(1, [[":method", "GET"], [":scheme", "http"], [":path", "/"], [":authority", "user@x"]])]), expect: { error: E.PROTOCOL_ERROR, stream: 1 } },
  { section: "8.3.1", name: "an :authority with a space", send: (c) => concat([c.start(), c.headers(1, [[":method", "GET"], [":scheme", "http"], [":path", "/"], [":authority", "a b"]])]), expect: { error: E.PROTOCOL_ERROR, stream: 1 } },
  { section: "8.3.1", name: "a Host that differs from :authority", send: (c) => concat([c.start(), c.headers(1, [...get(), ["host", "other"]])]), expect: { error: E.PROTOCOL_ERROR, stream: 1 } },
  { section: "8.3.1", name: "an IPv6 :authority with a port", send: (c) => concat([c.start(), c.headers(1, [[":method", "GET"], [":scheme", "http"], [":path", "/"], [":authority", "[::1]:8080"]])]), expect: { status: "200", stream: 1 } },
  { section: "8.4", name: "PUSH_PROMISE from a client", send: (c) => concat([c.start(), frame(FRAME.PUSH_PROMISE, FLAG.END_HEADERS, 1, [0, 0, 0, 2, 0x82])]), expect: { goaway: E.PROTOCOL_ERROR } },
  { section: "8.5", name: "an extended CONNECT (:protocol) without the setting", send: (c) => concat([c.start(), c.headers(1, [[":method", "CONNECT"], [":protocol", "websocket"], [":scheme", "http"], [":path", "/"], [":authority", "x"]])]), expect: { error: 0xd, stream: 1 } },
];
