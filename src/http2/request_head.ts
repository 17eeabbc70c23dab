/**
 * A decoded HEADERS block as a request (RFC 9113 §8.2, §8.3): the pseudo-header rules, the
 * field rules of HTTP/2 (lower-case names, no connection-specific fields, `te` only `trailers`),
 * and the request's fields in the exchange contract's terms. A malformed request is a stream
 * error of type PROTOCOL_ERROR (§8.1.1).
 *
 * @module
 */

import type { RequestFields, TargetForm } from "../http/request.ts";
import { HeaderList } from "../http/headers.ts";
import { isFieldName } from "../http/writer.ts";

/**
 * Why a request is malformed (the RST_STREAM's reason). `http11` marks a request that only
 * HTTP/1.1 can serve (an extended CONNECT, `:protocol`, which ferry does not offer): it is
 * refused with HTTP_1_1_REQUIRED, so the client retries over HTTP/1.1.
 */
export class MalformedRequest extends Error {
  /** Creates the error; `http11` for a request HTTP/1.1 could serve. */
  constructor(message: string, readonly http11 = false) {
    super(message);
  }
}

/** Fields that are connection-specific in HTTP/1.1 and forbidden in HTTP/2 (§8.2.2). */
const CONNECTION_SPECIFIC = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
]);

/** Whether `name` is a valid HTTP/2 field name: a lower-case token (§8.2.1). */
function validName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    // tchar without upper case (RFC 9110 §5.6.2)
    if (c >= 0x61 && c <= 0x7a) continue;
    if (c >= 0x30 && c <= 0x39) continue;
    if ("!#$%&'*+-.^_`|~".includes(name[i])) continue;
    return false;
  }
  return true;
}

/** Whether `value` is a valid field value: no NUL, CR or LF, no leading or trailing space (§8.2.1). */
function validValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d) return false;
  }
  if (value.length > 0) {
    const first = value.charCodeAt(0);
    const last = value.charCodeAt(value.length - 1);
    if (first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09) return false;
  }
  return true;
}

/** sub-delims and the unreserved marks of RFC 3986 §2, the characters of a reg-name besides letters and digits. */
const REG_NAME_MARKS = "-._~!$&'()*+,;=";

/**
 * Whether `value` is an authority as RFC 9113 §8.3.1 allows it: `host[:port]`, the host a
 * reg-name (percent-encoding allowed) or a bracketed IP literal, no userinfo.
 */
function validAuthority(value: string): boolean {
  let i = 0;
  const n = value.length;
  if (n === 0) return false;
  if (value[0] === "[") {
    const close = value.indexOf("]");
    if (close < 3) return false;
    for (let j = 1; j < close; j++) if (!/[0-9A-Fa-f:.vV]/.test(value[j])) return false;
    i = close + 1;
  } else {
    for (; i < n && value[i] !== ":"; i++) {
      const c = value.charCodeAt(i);
      const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
      if (!alnum && !REG_NAME_MARKS.includes(value[i]) && value[i] !== "%") return false;
    }
  }
  if (i === n) return true;
  if (value[i] !== ":") return false;
  for (let j = i + 1; j < n; j++) {
    const c = value.charCodeAt(j);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/**
 * Checks the fields of a request's HEADERS block and builds its fields, or throws
 * {@linkcode MalformedRequest}. Repeated `cookie` fields are joined with `"; "` (§8.2.3).
 *
 * @example
 * ```ts
 * import { requestFields } from "./request_head.ts";
 * const f = requestFields([":method", ":scheme", ":path", ":authority"], ["GET", "https", "/a?b", "x"]);
 * console.log(f.path, f.query, f.host); // "/a" "b" "x"
 * ```
 */
export function requestFields(names: string[], values: string[]): RequestFields {
  let method: string | undefined;
  let scheme: string | undefined;
  let path: string | undefined;
  let authority: string | undefined;
  let protocol: string | undefined;
  let regular = false;
  const hNames: string[] = [];
  const hValues: string[] = [];
  let cookie: string | undefined;
  let host: string | undefined;
  let contentLength = -1;
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const value = values[i];
    if (name.charCodeAt(0) === 0x3a) {
      if (regular) throw new MalformedRequest(`pseudo-header ${name} after a regular field`);
      const seen = name === ":method"
        ? method
        : name === ":scheme"
        ? scheme
        : name === ":path"
        ? path
        : name === ":authority"
        ? authority
        : name === ":protocol"
        ? protocol
        : null;
      if (seen === null) throw new MalformedRequest(`unknown pseudo-header ${name}`);
      if (seen !== undefined) throw new MalformedRequest(`pseudo-header ${name} twice`);
      if (!validValue(value)) throw new MalformedRequest(`invalid value of ${name}`);
      if (name === ":method") method = value;
      else if (name === ":scheme") scheme = value;
      else if (name === ":path") path = value;
      else if (name === ":authority") authority = value;
      else protocol = value;
      continue;
    }
    regular = true;
    if (!validName(name)) throw new MalformedRequest(`invalid field name ${JSON.stringify(name)}`);
    if (!validValue(value)) throw new MalformedRequest(`invalid value of ${name}`);
    // §8.2.2: `upgrade` too (an HTTP/1.1 WebSocket handshake sent over HTTP/2 is malformed).
    if (CONNECTION_SPECIFIC.has(name)) throw new MalformedRequest(`connection-specific field ${name}`);
    if (name === "te" && value !== "trailers") throw new MalformedRequest("te other than trailers");
    if (name === "cookie") {
      cookie = cookie === undefined ? value : `${cookie}; ${value}`;
      continue;
    }
    if (name === "host") host = value;
    if (name === "content-length") {
      if (!/^[0-9]{1,15}$/.test(value) || (contentLength !== -1 && contentLength !== Number(value))) {
        throw new MalformedRequest("invalid content-length");
      }
      contentLength = Number(value);
    }
    hNames.push(name);
    hValues.push(value);
  }
  if (cookie !== undefined) {
    hNames.push("cookie");
    hValues.push(cookie);
  }
  if (method === undefined) throw new MalformedRequest("no :method");
  // §8.3.1 and RFC 9110 §9.1: a method is a token (HTTP/1.1 answers anything else 400).
  if (!isFieldName(method)) throw new MalformedRequest(`invalid :method ${JSON.stringify(method)}`);
  if (protocol !== undefined) throw new MalformedRequest(":protocol without extended CONNECT", true);
  let form: TargetForm;
  let target: string;
  if (method === "CONNECT") {
    // §8.5: only :method and :authority.
    if (scheme !== undefined || path !== undefined || authority === undefined) {
      throw new MalformedRequest("CONNECT needs :authority and no :scheme or :path");
    }
    form = "authority";
    target = authority;
    path = "";
  } else {
    if (scheme === undefined) throw new MalformedRequest("no :scheme");
    if (path === undefined || path === "") throw new MalformedRequest("no :path");
    if (path === "*") {
      if (method !== "OPTIONS") throw new MalformedRequest(":path * is only for OPTIONS");
      form = "asterisk";
    } else if (path.charCodeAt(0) === 0x2f) form = "origin";
    else throw new MalformedRequest(":path is neither an absolute path nor *");
    target = path;
  }
  if (authority !== undefined && !validAuthority(authority)) throw new MalformedRequest("invalid :authority");
  if (host !== undefined && !validAuthority(host)) throw new MalformedRequest("invalid host");
  if (authority !== undefined && host !== undefined && authority !== host) {
    // §8.3.1: a Host that differs from :authority is malformed.
    throw new MalformedRequest("host differs from :authority");
  }
  const q = form === "origin" ? path.indexOf("?") : -1;
  const hash = form === "origin" ? path.indexOf("#") : -1;
  if (hash >= 0) throw new MalformedRequest(":path contains a fragment");
  if (authority !== undefined && host === undefined) {
    // Apps reading Host (WSGI's HTTP_HOST, fetch's URL) see the authority.
    hNames.unshift("host");
    hValues.unshift(authority);
  }
  return {
    method,
    target,
    form,
    path: q >= 0 ? path.slice(0, q) : path,
    query: q >= 0 ? path.slice(q + 1) : "",
    headers: new HeaderList(hNames, hValues),
    host: authority ?? host ?? "",
    contentLength,
    chunked: false,
  };
}

/**
 * Checks a trailer block (§8.1): no pseudo-headers, the same field rules as a head.
 */
export function trailerFields(names: string[], values: string[]): HeaderList {
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (name.charCodeAt(0) === 0x3a) throw new MalformedRequest(`pseudo-header ${name} in trailers`);
    if (!validName(name)) throw new MalformedRequest(`invalid field name ${JSON.stringify(name)}`);
    if (!validValue(values[i])) throw new MalformedRequest(`invalid value of ${name}`);
    if (CONNECTION_SPECIFIC.has(name)) throw new MalformedRequest(`connection-specific field ${name}`);
  }
  return new HeaderList(names, values);
}
