/**
 * ferry's own conformance table: the RFC 9112 / RFC 9110 request rules stated as request bytes and
 * the outcome ferry owes them. It needs nothing outside this repository. The parser-level test
 * replays every row at every split point; the live test sends every row to a real server over a
 * socket and checks the statuses, the reason code counted for the refusal and whether the
 * connection is closed afterwards.
 *
 * A row's `answered` requests are served with 200 (the test handler echoes the body); then, when
 * `status` is set, the next request is refused with it and reason `code`, and the connection closes.
 * Rows without `status` leave the connection open unless `closes` says otherwise.
 *
 * Where ferry is deliberately stricter than many parsers (Node's llhttp included), `stricter` says
 * so.
 *
 * @module
 */

import type { ParseErrorCode } from "../../src/http1/parser.ts";

/** One rule, as bytes and an outcome. */
export interface ConformanceCase {
  /** What the row checks, in a few words. */
  name: string;
  /** Where the rule comes from. */
  rule: string;
  /** The bytes the client sends. */
  request: string;
  /** How many requests are served (200) before the refusal, or in all when nothing is refused. */
  answered: number;
  /** The refusal status, when one is owed. */
  status?: number;
  /** The reason code ferry counts for the refusal. */
  code?: ParseErrorCode | "connect";
  /** Whether the server closes the connection after the last answer (always true with `status`). */
  closes?: boolean;
  /** Bodies of the answered requests, in order, when the row checks them. */
  bodies?: string[];
  /** Set where ferry is stricter than common parsers; the reason. */
  stricter?: string;
}

const H = "Host: t\r\n";
const GET = `GET / HTTP/1.1\r\n${H}\r\n`;
const post = (fields: string, body = "") => `POST / HTTP/1.1\r\n${H}${fields}\r\n${body}`;
const chunked = (body: string) => post("Transfer-Encoding: chunked\r\n", body);

/** The table. Every row is a rule; the names are unique. */
export const CONFORMANCE: readonly ConformanceCase[] = [
  // --- Request line (RFC 9112 §3) ------------------------------------------------------------------
  { name: "a plain GET", rule: "RFC 9112 §3", request: GET, answered: 1 },
  {
    name: "empty lines before the request line are ignored",
    rule: "RFC 9112 §2.2 (SHOULD ignore at least one empty line)",
    request: "\r\n\r\n" + GET,
    answered: 1,
  },
  {
    name: "lowercase http/ in the version",
    rule: "RFC 9112 §2.3 (HTTP-name is case-sensitive)",
    request: `GET / http/1.1\r\n${H}\r\n`,
    answered: 0,
    status: 400,
    code: "bad_version",
  },
  {
    name: "HTTP/2.0 over HTTP/1 framing",
    rule: "RFC 9110 §15.6.6",
    request: `GET / HTTP/2.0\r\n${H}\r\n`,
    answered: 0,
    status: 505,
    code: "unsupported_version",
  },
  {
    name: "HTTP/1.2 (an unknown minor version)",
    rule: "RFC 9110 §15.6.6",
    request: `GET / HTTP/1.2\r\n${H}\r\n`,
    answered: 0,
    status: 505,
    code: "unsupported_version",
  },
  {
    name: "a version with two digits",
    rule: "RFC 9112 §2.3 (HTTP-version = HTTP-name / DIGIT . DIGIT)",
    request: `GET / HTTP/1.10\r\n${H}\r\n`,
    answered: 0,
    status: 400,
    code: "bad_version",
  },
  {
    name: "HTTP/0.9 style request without a version",
    rule: "RFC 9112 §3",
    request: "GET /\r\n\r\n",
    answered: 0,
    status: 400,
    code: "bad_target",
  },
  {
    name: "two spaces after the method",
    rule: "RFC 9112 §3 (single SP)",
    request: `GET  / HTTP/1.1\r\n${H}\r\n`,
    answered: 0,
    status: 400,
    code: "bad_target",
    stricter: "RFC 9112 §3 allows lenient whitespace parsing; ferry does not, to keep one reading",
  },
  {
    name: "a space after the version",
    rule: "RFC 9112 §3",
    request: `GET / HTTP/1.1 \r\n${H}\r\n`,
    answered: 0,
    status: 400,
    code: "bad_version",
  },
  {
    name: "a target without a leading slash",
    rule: "RFC 9112 §3.2.1 (origin-form)",
    request: `GET index.html HTTP/1.1\r\n${H}\r\n`,
    answered: 0,
    status: 400,
    code: "bad_target",
  },
  {
    name: "asterisk-form outside OPTIONS",
    rule: "RFC 9112 §3.2.4",
    request: `GET * HTTP/1.1\r\n${H}\r\n`,
    answered: 0,
    status: 400,
    code: "bad_target",
  },
  {
    name: "absolute-form target is accepted",
    rule: "RFC 9112 §3.2.2 (a server MUST accept absolute-form)",
    request: `GET http://t/abs HTTP/1.1\r\n${H}\r\n`,
    answered: 1,
  },
  {
    name: "an unknown method",
    rule: "RFC 9110 §9.1 (501 for an unrecognised method)",
    request: `BREW / HTTP/1.1\r\n${H}\r\n`,
    answered: 0,
    status: 501,
    code: "unknown_method",
  },
  {
    name: "a lowercase method",
    rule: "RFC 9110 §9.1 (methods are case-sensitive)",
    request: `get / HTTP/1.1\r\n${H}\r\n`,
    answered: 0,
    status: 501,
    code: "unknown_method",
  },
  {
    name: "a method that is not a token",
    rule: "RFC 9110 §9.1 (method = token)",
    request: `G(T / HTTP/1.1\r\n${H}\r\n`,
    answered: 0,
    status: 400,
    code: "bad_method",
  },
  {
    name: "CONNECT to an origin server",
    rule: "RFC 9110 §9.3.6 (ferry is not a proxy)",
    request: "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
    answered: 0,
    status: 501,
    code: "connect",
  },
  {
    name: "raw non-ASCII in the target",
    rule: "RFC 3986 §2 (bytes outside the URI grammar)",
    request: `GET /caf\xc3\xa9 HTTP/1.1\r\n${H}\r\n`,
    answered: 0,
    status: 400,
    code: "bad_target",
  },
  {
    name: "a bare LF ending the request line",
    rule: "RFC 9112 §2.2 (a recipient MAY accept bare LF)",
    request: `GET / HTTP/1.1\n${H}\r\n`,
    answered: 0,
    status: 400,
    code: "bare_lf",
    stricter: "ferry takes the MUST of CRLF and refuses the MAY of bare LF",
  },
  {
    name: "a byte between the version and a bare LF",
    rule: "RFC 9112 §3 (request-line = method SP request-target SP HTTP-version CRLF)",
    request: `GET / HTTP/1.1 \n${H}\r\n`,
    answered: 0,
    status: 400,
    code: "bad_version",
  },
  {
    name: "a bare CR before the request line",
    rule: "RFC 9112 §2.2 (bare CR MUST be rejected)",
    request: `\rGET / HTTP/1.1\r\n${H}\r\n`,
    answered: 0,
    status: 400,
    code: "bare_cr",
  },
  // --- Field lines (RFC 9112 §5) -------------------------------------------------------------------
  {
    name: "obs-fold in a field value",
    rule: "RFC 9112 §5.2 (reject or replace obs-fold)",
    request: `GET / HTTP/1.1\r\n${H}X-A: 1\r\n  2\r\n\r\n`,
    answered: 0,
    status: 400,
    code: "obs_fold",
  },
  {
    name: "whitespace before the first field line",
    rule: "RFC 9112 §2.2 (reject, or discard each such line)",
    request: `GET / HTTP/1.1\r\n ${H}\r\n`,
    answered: 0,
    status: 400,
    code: "obs_fold",
  },
  {
    name: "a bare CR inside a field value",
    rule: "RFC 9112 §2.2",
    request: `GET / HTTP/1.1\r\n${H}X-A: 1\r2\r\n\r\n`,
    answered: 0,
    status: 400,
    code: "bare_cr",
  },
  {
    name: "a bare LF ending a field line",
    rule: "RFC 9112 §2.2",
    request: `GET / HTTP/1.1\r\n${H}X-A: 1\n\r\n`,
    answered: 0,
    status: 400,
    code: "bare_lf",
    stricter: "ferry refuses the MAY of bare LF",
  },
  {
    name: "a field line ending in two bare LFs",
    rule: "RFC 9112 §2.2",
    request: `GET / HTTP/1.1\r\n${H}X-A: 1\n\n`,
    answered: 0,
    status: 400,
    code: "bare_lf",
    stricter: "ferry refuses the MAY of bare LF",
  },
  {
    name: "a control byte then a bare LF ending a field line",
    rule: "RFC 9110 §5.5",
    request: `GET / HTTP/1.1\r\n${H}X-A: 1\x01\n\r\n`,
    answered: 0,
    status: 400,
    code: "bad_header_value",
  },
  {
    name: "NUL in a field value",
    rule: "RFC 9110 §5.5 (NUL MUST be rejected or replaced)",
    request: `GET / HTTP/1.1\r\n${H}X-A: a\x00b\r\n\r\n`,
    answered: 0,
    status: 400,
    code: "bad_header_value",
  },
  {
    name: "DEL in a field value",
    rule: "RFC 9110 §5.5 (field-vchar excludes DEL)",
    request: `GET / HTTP/1.1\r\n${H}X-A: a\x7fb\r\n\r\n`,
    answered: 0,
    status: 400,
    code: "bad_header_value",
  },
  {
    name: "obs-text in a field value is kept",
    rule: "RFC 9110 §5.5 (obs-text is allowed)",
    request: `GET / HTTP/1.1\r\n${H}X-A: caf\xe9\r\n\r\n`,
    answered: 1,
  },
  {
    name: "whitespace between a field name and the colon",
    rule: "RFC 9112 §5.1 (MUST reject with 400)",
    request: "GET / HTTP/1.1\r\nHost : t\r\n\r\n",
    answered: 0,
    status: 400,
    code: "whitespace_before_colon",
  },
  {
    name: "a field line without a colon",
    rule: "RFC 9112 §5",
    request: `GET / HTTP/1.1\r\n${H}NoColon\r\n\r\n`,
    answered: 0,
    status: 400,
    code: "bad_header_name",
  },
  {
    name: "a field name that is not a token",
    rule: "RFC 9110 §5.1 (field-name = token)",
    request: `GET / HTTP/1.1\r\n${H}X(A): 1\r\n\r\n`,
    answered: 0,
    status: 400,
    code: "bad_header_name",
  },
  {
    name: "an empty field value is fine",
    rule: "RFC 9110 §5.5",
    request: `GET / HTTP/1.1\r\n${H}X-Empty:\r\n\r\n`,
    answered: 1,
  },
  // --- Host (RFC 9112 §3.2) ----------------------------------------------------------------------
  {
    name: "HTTP/1.1 without Host",
    rule: "RFC 9112 §3.2 (MUST respond 400)",
    request: "GET / HTTP/1.1\r\n\r\n",
    answered: 0,
    status: 400,
    code: "missing_host",
  },
  {
    name: "HTTP/1.0 without Host is fine",
    rule: "RFC 9112 §3.2 (Host is required of HTTP/1.1)",
    request: "GET / HTTP/1.0\r\n\r\n",
    answered: 1,
    closes: true,
  },
  {
    name: "two Host fields",
    rule: "RFC 9112 §3.2 (more than one Host: 400)",
    request: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    answered: 0,
    status: 400,
    code: "duplicate_host",
  },
  {
    name: "a Host with a space",
    rule: "RFC 9112 §3.2 (invalid field value: 400)",
    request: "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
    answered: 0,
    status: 400,
    code: "bad_host",
  },
  {
    name: "a Host with userinfo",
    rule: "RFC 9110 §4.2.4 (userinfo is deprecated and dangerous)",
    request: "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n",
    answered: 0,
    status: 400,
    code: "bad_host",
  },
  {
    name: "a Host with a port",
    rule: "RFC 9112 §3.2",
    request: "GET / HTTP/1.1\r\nHost: t:8080\r\n\r\n",
    answered: 1,
  },
  // --- Content-Length (RFC 9112 §6.3, RFC 9110 §8.6) ---------------------------------------------
  {
    name: "a Content-Length body",
    rule: "RFC 9112 §6.2",
    request: post("Content-Length: 5\r\n", "hello"),
    answered: 1,
    bodies: ["hello"],
  },
  {
    name: "Content-Length with letters",
    rule: "RFC 9112 §6.3 (invalid Content-Length: 400 and close)",
    request: post("Content-Length: 1x\r\n"),
    answered: 0,
    status: 400,
    code: "bad_content_length",
  },
  {
    name: "Content-Length with a sign",
    rule: "RFC 9110 §8.6 (1*DIGIT)",
    request: post("Content-Length: +1\r\n", "a"),
    answered: 0,
    status: 400,
    code: "bad_content_length",
  },
  {
    name: "an empty Content-Length",
    rule: "RFC 9110 §8.6 (1*DIGIT)",
    request: post("Content-Length: \r\n"),
    answered: 0,
    status: 400,
    code: "bad_content_length",
  },
  {
    name: "two differing Content-Length fields",
    rule: "RFC 9112 §6.3 item 5",
    request: post("Content-Length: 1\r\nContent-Length: 2\r\n", "a"),
    answered: 0,
    status: 400,
    code: "content_length_mismatch",
  },
  {
    name: "a differing Content-Length list",
    rule: "RFC 9110 §8.6",
    request: post("Content-Length: 1, 2\r\n", "a"),
    answered: 0,
    status: 400,
    code: "content_length_mismatch",
  },
  {
    name: "identical repeated Content-Length fields",
    rule: "RFC 9110 §8.6 (MAY accept a list of one repeated value)",
    request: post("Content-Length: 2\r\nContent-Length: 2\r\n", "ok"),
    answered: 1,
    bodies: ["ok"],
  },
  {
    name: "a Content-Length that overflows",
    rule: "RFC 9110 §8.6 (anticipate large numbers, prevent overflow)",
    request: post("Content-Length: 99999999999999999999\r\n"),
    answered: 0,
    status: 400,
    code: "bad_content_length",
  },
  {
    name: "Content-Length together with Transfer-Encoding",
    rule: "RFC 9112 §6.1 (MAY reject; a smuggling vector)",
    request: post("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"),
    answered: 0,
    status: 400,
    code: "content_length_with_transfer_encoding",
    stricter: "RFC 9112 lets Transfer-Encoding win; ferry refuses the message outright",
  },
  // --- Transfer-Encoding and chunked (RFC 9112 §6.1, §7.1) -----------------------------------------
  {
    name: "a chunked body with extensions and a trailer",
    rule: "RFC 9112 §7.1",
    request: chunked('3;a=b;c="d e"\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n'),
    answered: 1,
    bodies: ["abcde"],
  },
  {
    name: "a chunk size in upper-case hex",
    rule: "RFC 9112 §7.1 (chunk-size = 1*HEXDIG)",
    request: chunked("A\r\n0123456789\r\n0\r\n\r\n"),
    answered: 1,
    bodies: ["0123456789"],
  },
  {
    name: "Transfer-Encoding on HTTP/1.0",
    rule: "RFC 9112 §6.1 (treat as faulty framing, then close)",
    request: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    answered: 0,
    status: 400,
    code: "transfer_encoding_http10",
  },
  {
    name: "gzip transfer coding",
    rule: "RFC 9112 §6.1 (501 for an unknown coding)",
    request: post("Transfer-Encoding: gzip\r\n"),
    answered: 0,
    status: 501,
    code: "unsupported_transfer_coding",
  },
  {
    name: "gzip before chunked",
    rule: "RFC 9112 §6.1",
    request: post("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"),
    answered: 0,
    status: 501,
    code: "unsupported_transfer_coding",
  },
  {
    name: "chunked applied twice",
    rule: "RFC 9112 §6.1 (MUST NOT apply chunked more than once)",
    request: post("Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n"),
    answered: 0,
    status: 400,
    code: "bad_transfer_encoding",
  },
  {
    name: "chunked that is not the final coding",
    rule: "RFC 9112 §6.3 item 4 (400 and close)",
    request: post("Transfer-Encoding: chunked, gzip\r\n", "0\r\n\r\n"),
    answered: 0,
    status: 400,
    code: "bad_transfer_encoding",
  },
  {
    name: "a chunk size that is not hex",
    rule: "RFC 9112 §7.1",
    request: chunked("zz\r\n"),
    answered: 0,
    status: 400,
    code: "bad_chunk_size",
  },
  {
    name: "a chunk size that overflows",
    rule: "RFC 9112 §7.1 (anticipate large numbers, prevent overflow)",
    request: chunked("fffffffffffffffff\r\n"),
    answered: 0,
    status: 400,
    code: "bad_chunk_size",
  },
  {
    name: "chunk data longer than its size",
    rule: "RFC 9112 §7.1 (chunk-data CRLF)",
    request: chunked("1\r\nab\r\n0\r\n\r\n"),
    answered: 0,
    status: 400,
    code: "bad_chunk_data",
  },
  {
    name: "a chunk size line ended by a bare LF",
    rule: "RFC 9112 §7.1",
    request: chunked("1\na\r\n0\r\n\r\n"),
    answered: 0,
    status: 400,
    code: "bad_chunk_size",
  },
  {
    name: "an unterminated quoted chunk extension",
    rule: "RFC 9112 §7.1.1",
    request: chunked('1;a="b\r\na\r\n0\r\n\r\n'),
    answered: 0,
    status: 400,
    code: "bad_chunk_extension",
  },
  {
    name: "whitespace after the chunk size",
    rule: "RFC 9112 §7.1.1 (BWS only before ';')",
    request: chunked("1 \r\na\r\n0\r\n\r\n"),
    answered: 0,
    status: 400,
    code: "bad_chunk_extension",
  },
  {
    name: "a trailer field name with a space",
    rule: "RFC 9112 §7.1.2 (trailer fields are field lines)",
    request: chunked("0\r\nBad Trailer: x\r\n\r\n"),
    answered: 0,
    status: 400,
    code: "bad_trailer",
  },
  // --- Expect (RFC 9110 §10.1.1) -----------------------------------------------------------------
  {
    name: "an unknown expectation",
    rule: "RFC 9110 §10.1.1 (417)",
    request: post("Expect: 200-ok\r\nContent-Length: 0\r\n"),
    answered: 0,
    status: 417,
    code: "unsupported_expectation",
  },
  // --- Persistence and pipelining (RFC 9112 §9) --------------------------------------------------
  {
    name: "three pipelined requests are answered in order",
    rule: "RFC 9112 §9.3.2 (responses in the order of the requests)",
    request: post("Content-Length: 1\r\n", "a") + post("Content-Length: 1\r\n", "b") +
      post("Content-Length: 1\r\n", "c"),
    answered: 3,
    bodies: ["a", "b", "c"],
  },
  {
    name: "a good request, then a bad one: the first is answered",
    rule: "RFC 9112 §9.3.2",
    request: GET + "GET / HTTP/1.1\r\n\r\n",
    answered: 1,
    status: 400,
    code: "missing_host",
  },
  {
    name: "Connection: close ends the connection after its answer",
    rule: "RFC 9112 §9.6",
    request: `GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
    answered: 1,
    closes: true,
  },
  {
    name: "nothing after Connection: close is read",
    rule: "RFC 9112 §9.6 (MUST NOT process further requests)",
    request: `GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\n` + GET,
    answered: 1,
    closes: true,
  },
  {
    name: "HTTP/1.0 with keep-alive persists",
    rule: "RFC 9112 §9.3 and Appendix C.2.2",
    request: "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    answered: 1,
  },
  {
    name: "a close token among others",
    rule: "RFC 9110 §7.6.1 (Connection is a list)",
    request: `GET / HTTP/1.1\r\n${H}Connection: foo, Close\r\n\r\n`,
    answered: 1,
    closes: true,
  },
];
