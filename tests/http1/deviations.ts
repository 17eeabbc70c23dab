/**
 * The llhttp strict request fixtures where ferry deliberately differs from llhttp, each with the
 * reason. Both the parser-level and the live-server conformance tests read this table.
 *
 * @module
 */

import type { Fixture } from "./llhttp_fixtures.ts";
import { LLHTTP_CLOSED_CONNECTION, LLHTTP_PAUSE_CODES } from "./llhttp_fixtures.ts";

/** How ferry treats a fixture, when that is not what llhttp's log implies. */
export interface Deviation {
  /** ferry rejects what llhttp accepts (or pauses on), or skips a fixture that cannot apply. */
  ferry: "reject" | "not-applicable";
  /** Why. */
  why: string;
}

const CONNECT = "CONNECT is answered 501: ferry is an origin server, not a proxy (RFC 9110 §9.3.6)";

/** Fixture name → deviation. Names are `file.md: heading`. */
export const DEVIATIONS: Readonly<Record<string, Deviation>> = {
  "method.md: CONNECT request": { ferry: "reject", why: CONNECT },
  "method.md: CONNECT request with CAPS": { ferry: "reject", why: CONNECT },
  "method.md: CONNECT with body": { ferry: "reject", why: CONNECT },
  "uri.md: Underscore in hostname": { ferry: "reject", why: CONNECT },
  "method.md: SOURCE request": {
    ferry: "reject",
    why: "SOURCE (Icecast) is not in the IANA method registry; unknown methods get 501",
  },
  "method.md: SOURCE request with ICE": { ferry: "reject", why: "ICE/1.0 is not HTTP: 400" },
  "method.md: OPTIONS request with RTSP": { ferry: "reject", why: "RTSP/1.0 is not HTTP: 400" },
  "method.md: ANNOUNCE request with RTSP": { ferry: "reject", why: "RTSP/1.0 is not HTTP: 400" },
  "method.md: PRI request HTTP2": {
    ferry: "reject",
    why: "no HTTP/2 prior-knowledge upgrade over cleartext: HTTP/2.0 gets 505",
  },
  "method.md: M-SEARCH request": {
    ferry: "reject",
    why: "asterisk-form is only for OPTIONS (RFC 9112 §3.2.4); SSDP's M-SEARCH * belongs to UDP",
  },
  "sample.md: No HTTP version": {
    ferry: "reject",
    why: "HTTP/0.9 simple requests are not served (RFC 9112 has no 0.9; a head-less reply is a hazard)",
  },
  "uri.md: `host:port` and basic auth": {
    ferry: "reject",
    why: "userinfo in an http(s) target is an error (RFC 9110 §4.2.4)",
  },
  "transfer-encoding.md: POST with `chunked` as last transfer-encoding": {
    ferry: "reject",
    why: "ferry implements no transfer coding but chunked: deflate/gzip before it get 501 (RFC 9112 §6.1)",
  },
  "transfer-encoding.md: POST with `chunked` as last transfer-encoding (multiple headers)": {
    ferry: "reject",
    why: "ferry implements no transfer coding but chunked: deflate/gzip before it get 501 (RFC 9112 §6.1)",
  },
  "content-length.md: Content-Length reset when no body is received": {
    ferry: "not-applicable",
    why: "uses llhttp's skipBody callback; a server always reads a body by its framing",
  },
};

/** The outcome a fixture should have in ferry. */
export interface Expectation {
  /** Whether ferry must end the input with a rejection. */
  reject: boolean;
  /** How many messages ferry must complete before that (or before the input ends). */
  messages: number;
  /** For Upgrade requests: bytes after the upgraded head are not HTTP, so only heads count. */
  compareOnlyFirst?: boolean;
}

/** What ferry must do with `f`, or undefined when the fixture does not apply. */
export function expectationFor(f: Fixture): Expectation | undefined {
  const dev = DEVIATIONS[f.name];
  if (dev?.ferry === "not-applicable") return undefined;
  if (dev?.ferry === "reject") return { reject: true, messages: 0 };
  if (f.errorCode === undefined || f.errorCode === LLHTTP_CLOSED_CONNECTION) {
    return { reject: false, messages: f.messages };
  }
  if (LLHTTP_PAUSE_CODES.has(f.errorCode)) {
    // llhttp hands the socket over after an Upgrade head. ferry does not upgrade: it answers the
    // request and reads on, so what follows (WebSocket bytes here) is judged as HTTP. Only the
    // heads llhttp completed are compared.
    return { reject: false, messages: f.heads, compareOnlyFirst: true };
  }
  return { reject: true, messages: f.messages };
}
