// deno-fmt-ignore-file
/**
 * ferry's RFC 9114 / RFC 9204 cases: the bytes a client sends on a request stream or on its
 * unidirectional streams, and what must come of them: the request's events, a refusal with a
 * status, or a connection error with its code. Replayed through the parsers at every split
 * point (`conformance_test.ts`), and the connection errors against a live server over QUIC.
 *
 * @module
 */

import { cat, controlOpen, dt, fr, get, hd, post, st, T, vi } from "./h3_kit.ts";

/** What must come of the bytes. */
export type Outcome =
  /** The request's events, rendered (`head GET /`, `data 5`, `trailers x-t=1`, `end`). */
  | { events: string[] }
  /** Answered with this status, nothing more read. */
  | { reject: 400 | 431 }
  /** A connection error with this code's name. */
  | { error: string };

/** One case. */
export interface H3Case {
  /** The RFC section. */
  section: string;
  /** What is sent. */
  name: string;
  /** A request stream's bytes, or unidirectional streams' (each its own stream, in order). */
  request?: Uint8Array;
  uni?: Uint8Array[];
  /** Whether the (last) stream then ends (FIN). Default: a request stream ends, a uni stream does not. */
  fin?: boolean;
  /** The outcome. */
  expect: Outcome;
}

/** The field-section limit the cases are replayed with. */
export const LIMIT = 4096;

/** A field section's prefix (Required Insert Count 0, Base 0) and lines. */
const sec = (...lines: number[]) => fr(T.HEADERS, [0x00, 0x00, ...lines]);

/** The cases. */
export const CASES: H3Case[] = [
  // RFC 9114 §4.1: HTTP message framing
  { section: "4.1", name: "a GET", request: hd(get("/a?b")), expect: { events: ["head GET /a", "end"] } },
  { section: "4.1", name: "a POST with its body", request: cat(hd(post("/p", 5)), dt(5)), expect: { events: ["head POST /p", "data 5", "end"] } },
  { section: "4.1", name: "a body in two DATA frames", request: cat(hd(post("/p", 5)), dt(2), dt(3)), expect: { events: ["head POST /p", "data 5", "end"] } },
  { section: "4.1", name: "a body without content-length", request: cat(hd(post("/p", -1)), dt(7)), expect: { events: ["head POST /p", "data 7", "end"] } },
  { section: "4.1", name: "trailers after the body", request: cat(hd(post("/p", 1)), dt(1), hd([["x-t", "1"]])), expect: { events: ["head POST /p", "data 1", "trailers x-t=1", "end"] } },
  { section: "4.1", name: "HEADERS after the trailers", request: cat(hd(get()), hd([["x-t", "1"]]), hd([["x-u", "2"]])), expect: { error: "FRAME_UNEXPECTED" } },
  { section: "4.1", name: "DATA after the trailers", request: cat(hd(post("/p", -1)), dt(1), hd([["x-t", "1"]]), dt(1)), expect: { error: "FRAME_UNEXPECTED" } },
  { section: "4.1", name: "DATA before HEADERS", request: cat(dt(1), hd(get())), expect: { error: "FRAME_UNEXPECTED" } },
  { section: "4.1", name: "the stream ends before HEADERS", request: new Uint8Array(0), expect: { reject: 400 } },
  { section: "4.1", name: "a reserved frame type before HEADERS is ignored", request: cat(fr(T.RESERVED, [1, 2, 3]), hd(get())), expect: { events: ["head GET /", "end"] } },
  { section: "4.1", name: "a reserved frame type between DATA is ignored", request: cat(hd(post("/p", 2)), dt(1), fr(T.RESERVED, [9]), dt(1)), expect: { events: ["head POST /p", "data 2", "end"] } },
  { section: "4.1", name: "an unknown type with an 8-octet varint is ignored", request: cat([0xff, 0, 0, 0, 0, 0, 0, 1], vi(2), [7, 7], hd(get())), expect: { events: ["head GET /", "end"] } },
  { section: "4.1", name: "an empty DATA frame is nothing", request: cat(hd(post("/p", 1)), dt(0), dt(1)), expect: { events: ["head POST /p", "data 1", "end"] } },
  { section: "4.1", name: "a request with content-length: more DATA", request: cat(hd(post("/p", 2)), dt(3)), expect: { events: ["head POST /p", "reject 400"] } },
  { section: "4.1", name: "a request with content-length: less DATA", request: cat(hd(post("/p", 4)), dt(3)), expect: { events: ["head POST /p", "reject 400"] } },
  { section: "4.1.2", name: "a request without :method", request: hd([[":scheme", "https"], [":path", "/"]]), expect: { reject: 400 } },
  { section: "4.1.2", name: "a request without :scheme", request: hd([[":method", "GET"], [":path", "/"]]), expect: { reject: 400 } },
  { section: "4.1.2", name: "a request without :path", request: hd([[":method", "GET"], [":scheme", "https"]]), expect: { reject: 400 } },
  { section: "4.1.2", name: "an empty :path", request: hd([[":method", "GET"], [":scheme", "https"], [":path", ""]]), expect: { reject: 400 } },
  { section: "4.2", name: "an upper-case field name", request: hd(get("/", [["X-Up", "1"]])), expect: { reject: 400 } },
  { section: "4.2", name: "a connection-specific field", request: hd(get("/", [["connection", "keep-alive"]])), expect: { reject: 400 } },
  { section: "4.2", name: "transfer-encoding", request: hd(get("/", [["transfer-encoding", "chunked"]])), expect: { reject: 400 } },
  { section: "4.2", name: "te other than trailers", request: hd(get("/", [["te", "gzip"]])), expect: { reject: 400 } },
  { section: "4.2", name: "te: trailers", request: hd(get("/", [["te", "trailers"]])), expect: { events: ["head GET /", "end"] } },
  { section: "4.2", name: "a field value with a line feed", request: hd(get("/", [["x-a", "a\nb"]])), expect: { reject: 400 } },
  { section: "4.3", name: "a pseudo-header after a regular field", request: hd([[":method", "GET"], ["x-a", "1"], [":scheme", "https"], [":path", "/"]]), expect: { reject: 400 } },
  { section: "4.3", name: "an unknown pseudo-header", request: hd(get("/", [[":foo", "1"]]).sort((a, b) => (a[0][0] === ":" ? 0 : 1) - (b[0][0] === ":" ? 0 : 1))), expect: { reject: 400 } },
  { section: "4.3", name: ":method twice", request: hd([[":method", "GET"], [":method", "GET"], [":scheme", "https"], [":path", "/"]]), expect: { reject: 400 } },
  { section: "4.3", name: "host differs from :authority", request: hd(get("/", [["host", "other"]])), expect: { reject: 400 } },
  { section: "4.4", name: "CONNECT with :authority only", request: hd([[":method", "CONNECT"], [":authority", "example.com:443"]]), expect: { events: ["head CONNECT ", "end"] } },
  { section: "RFC 9220", name: "extended CONNECT (WebSocket) is not offered", request: hd([[":method", "CONNECT"], [":protocol", "websocket"], [":scheme", "https"], [":path", "/ws"], [":authority", "localhost"]]), expect: { reject: 400 } },
  { section: "4.2", name: "an upgrade field (WebSocket over HTTP/1.1's way)", request: hd(get("/ws", [["upgrade", "websocket"]])), expect: { reject: 400 } },
  { section: "4.2.2", name: "a field section over the limit is refused before it is decoded", request: fr(T.HEADERS, new Uint8Array(LIMIT + 1).fill(0xff)), expect: { reject: 431 } },
  // Index 85 (content-security-policy, 87 octets + 32) a hundred times: 300 octets in, ~12 KB out.
  { section: "4.2.2", name: "a field section over the limit once decoded", request: sec(0xd1, 0xd7, 0xc1, ...new Array(100).fill([0xff, 0x16]).flat()), expect: { reject: 431 } },
  { section: "7.1", name: "the stream ends inside a frame (Deno shows a reset so too: the request's end, not the connection's)", request: hd(get()).subarray(0, 4), expect: { reject: 400 } },
  { section: "7.1", name: "the stream ends inside a DATA frame", request: cat(hd(post("/p", -1)), dt(4).subarray(0, 4)), expect: { events: ["head POST /p", "reject 400"] } },
  { section: "7.2.4", name: "SETTINGS on a request stream", request: cat(st(), hd(get())), expect: { error: "FRAME_UNEXPECTED" } },
  { section: "7.2.6", name: "GOAWAY on a request stream", request: cat(hd(get()), fr(T.GOAWAY, [0])), expect: { error: "FRAME_UNEXPECTED" } },
  { section: "7.2.7", name: "MAX_PUSH_ID on a request stream", request: cat(fr(T.MAX_PUSH_ID, [0]), hd(get())), expect: { error: "FRAME_UNEXPECTED" } },
  { section: "7.2.3", name: "CANCEL_PUSH on a request stream", request: cat(fr(T.CANCEL_PUSH, [0]), hd(get())), expect: { error: "FRAME_UNEXPECTED" } },
  { section: "7.2.5", name: "PUSH_PROMISE from a client", request: cat(hd(get()), fr(T.PUSH_PROMISE, [0, 0, 0])), expect: { error: "FRAME_UNEXPECTED" } },
  { section: "7.2.8", name: "HTTP/2's PING type", request: cat(fr(T.PING_H2, [0, 0, 0, 0, 0, 0, 0, 0]), hd(get())), expect: { error: "FRAME_UNEXPECTED" } },
  // RFC 9204: QPACK with a dynamic table capacity of 0
  { section: "9204 4.5.1", name: "a Required Insert Count other than 0", request: fr(T.HEADERS, [0x01, 0x00, 0xd1]), expect: { error: "QPACK_DECOMPRESSION_FAILED" } },
  { section: "9204 4.5.2", name: "an indexed line into the dynamic table", request: sec(0x80), expect: { error: "QPACK_DECOMPRESSION_FAILED" } },
  { section: "9204 4.5.3", name: "a post-base indexed line", request: sec(0x10), expect: { error: "QPACK_DECOMPRESSION_FAILED" } },
  { section: "9204 4.5.4", name: "a literal with a dynamic name reference", request: sec(0x40, 0x01, 0x61), expect: { error: "QPACK_DECOMPRESSION_FAILED" } },
  { section: "9204 4.5.5", name: "a literal with a post-base name reference", request: sec(0x00, 0x01, 0x61), expect: { error: "QPACK_DECOMPRESSION_FAILED" } },
  { section: "9204 A", name: "static index 99, past the table", request: sec(0xff, 0x24), expect: { error: "QPACK_DECOMPRESSION_FAILED" } },
  { section: "9204 4.1.2", name: "a string running past the section", request: sec(0xd1, 0xd7, 0x51, 0x05, 0x61), expect: { error: "QPACK_DECOMPRESSION_FAILED" } },
  { section: "9204 4.1.2", name: "a Huffman string with the EOS symbol", request: sec(0xd1, 0xd7, 0x51, 0x84, 0xff, 0xff, 0xff, 0xff), expect: { error: "QPACK_DECOMPRESSION_FAILED" } },
  { section: "9204 4.5.6", name: "a literal name and values (plain octets)", request: cat(sec(0xd1, 0xd7, 0xc1, 0x50, 0x01, 0x61, 0x23, 0x78, 0x2d, 0x61, 0x01, 0x62), fr(T.RESERVED)), expect: { events: ["head GET /", "end"] } },
  // RFC 9114 §6.2: unidirectional streams
  { section: "6.2.1", name: "a control stream with SETTINGS", uni: [controlOpen([[0x06, 16384]])], expect: { events: ["settings 6=16384"] } },
  { section: "6.2.1", name: "a control stream with a setting of 2^62 - 1", uni: [cat([0x00], fr(T.SETTINGS, cat(vi(0x06), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])))], expect: { events: ["settings 6=9007199254740991"] } },
  { section: "6.2.1", name: "the control stream closed", uni: [controlOpen()], fin: true, expect: { error: "CLOSED_CRITICAL_STREAM" } },
  { section: "6.2.1", name: "a second control stream", uni: [controlOpen(), controlOpen()], expect: { error: "STREAM_CREATION_ERROR" } },
  { section: "6.2.2", name: "a push stream from a client", uni: [cat([0x01], vi(0))], expect: { error: "STREAM_CREATION_ERROR" } },
  { section: "6.2.3", name: "a reserved stream type is ignored", uni: [cat(vi(T.RESERVED), [1, 2, 3])], fin: true, expect: { events: [] } },
  { section: "6.2.1", name: "a first frame other than SETTINGS", uni: [cat([0x00], fr(T.GOAWAY, [0]))], expect: { error: "MISSING_SETTINGS" } },
  { section: "6.2.1", name: "a reserved frame before SETTINGS", uni: [cat([0x00], fr(T.RESERVED), st())], expect: { error: "MISSING_SETTINGS" } },
  { section: "7.2.4", name: "a second SETTINGS", uni: [cat(controlOpen(), st())], expect: { error: "FRAME_UNEXPECTED" } },
  { section: "7.2.4.1", name: "an HTTP/2 setting", uni: [controlOpen([[0x02, 1]])], expect: { error: "SETTINGS_ERROR" } },
  { section: "7.2.4", name: "a setting twice", uni: [controlOpen([[0x06, 1], [0x06, 2]])], expect: { error: "SETTINGS_ERROR" } },
  { section: "7.2.4", name: "unknown and reserved settings are ignored", uni: [controlOpen([[0x21, 5], [0x33, 1]])], expect: { events: ["settings 33=5 51=1"] } },
  { section: "7.2.4", name: "a SETTINGS frame over the bound", uni: [cat([0x00], fr(T.SETTINGS, new Uint8Array(17000)))], expect: { error: "EXCESSIVE_LOAD" } },
  { section: "7.2.1", name: "DATA on the control stream", uni: [cat(controlOpen(), dt(1))], expect: { error: "FRAME_UNEXPECTED" } },
  { section: "7.2.2", name: "HEADERS on the control stream", uni: [cat(controlOpen(), hd(get()))], expect: { error: "FRAME_UNEXPECTED" } },
  { section: "7.2.8", name: "HTTP/2's PRIORITY type on the control stream", uni: [cat(controlOpen(), fr(T.PRIORITY_H2, [0, 0, 0, 0, 0]))], expect: { error: "FRAME_UNEXPECTED" } },
  { section: "5.2", name: "a client's GOAWAY", uni: [cat(controlOpen(), fr(T.GOAWAY, [8]), fr(T.GOAWAY, [4]))], expect: { events: ["settings", "goaway 8", "goaway 4"] } },
  { section: "5.2", name: "a client's GOAWAY that grows", uni: [cat(controlOpen(), fr(T.GOAWAY, [4]), fr(T.GOAWAY, [8]))], expect: { error: "ID_ERROR" } },
  { section: "7.1", name: "a GOAWAY with bytes after its id", uni: [cat(controlOpen(), fr(T.GOAWAY, [4, 0]))], expect: { error: "FRAME_ERROR" } },
  { section: "7.2.7", name: "MAX_PUSH_ID that grows", uni: [cat(controlOpen(), fr(T.MAX_PUSH_ID, [1]), fr(T.MAX_PUSH_ID, [3]))], expect: { events: ["settings"] } },
  { section: "7.2.7", name: "MAX_PUSH_ID that shrinks", uni: [cat(controlOpen(), fr(T.MAX_PUSH_ID, [3]), fr(T.MAX_PUSH_ID, [1]))], expect: { error: "ID_ERROR" } },
  { section: "7.2.3", name: "CANCEL_PUSH of a push never promised", uni: [cat(controlOpen(), fr(T.CANCEL_PUSH, [0]))], expect: { error: "ID_ERROR" } },
  { section: "9204 4.2", name: "encoder stream: Set Dynamic Table Capacity 0", uni: [cat([0x02], [0x20, 0x20])], expect: { events: [] } },
  { section: "9204 4.2", name: "encoder stream closed", uni: [cat([0x02])], fin: true, expect: { error: "CLOSED_CRITICAL_STREAM" } },
  { section: "9204 4.3.1", name: "encoder stream: a capacity over 0", uni: [cat([0x02], [0x21])], expect: { error: "QPACK_ENCODER_STREAM_ERROR" } },
  { section: "9204 4.3.2", name: "encoder stream: an insert", uni: [cat([0x02], [0xc0 | 17, 0x01, 0x61])], expect: { error: "QPACK_ENCODER_STREAM_ERROR" } },
  { section: "9204 4.4.2", name: "decoder stream: Stream Cancellations", uni: [cat([0x03], [0x44, 0x7f, 0x80, 0x01])], expect: { events: [] } },
  { section: "9204 4.4.1", name: "decoder stream: a Section Acknowledgment", uni: [cat([0x03], [0x84])], expect: { error: "QPACK_DECODER_STREAM_ERROR" } },
  { section: "9204 4.4.3", name: "decoder stream: an Insert Count Increment", uni: [cat([0x03], [0x01])], expect: { error: "QPACK_DECODER_STREAM_ERROR" } },
  { section: "9204 4.2", name: "a second decoder stream", uni: [[0x03], [0x03]].map((b) => new Uint8Array(b)), expect: { error: "STREAM_CREATION_ERROR" } },
];
