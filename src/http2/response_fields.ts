/**
 * A response head as the field list HTTP/2 and HTTP/3 send (RFC 9113 §8.3.2, RFC 9114 §4.3.2):
 * `:status`, the handler's fields lower-cased and checked, without the connection-specific ones
 * (RFC 9113 §8.2.2, RFC 9114 §4.2) and those ferry sets itself, then Content-Length, Date, Server,
 * the request id, HSTS and Alt-Svc.
 *
 * @module
 */

import { isFieldName, isFieldValue, PreparedHeaders, type ResponseHeaders } from "../http/writer.ts";
import { httpDate } from "../http/date.ts";

/** Response fields HTTP/2 and HTTP/3 forbid, or ferry sets itself. */
const DROPPED = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "content-length",
  "date",
  "server",
  "x-request-id",
]);

/** What ferry adds to every head of one response. */
export interface HeadExtras {
  /** The request's id (`x-request-id`). */
  requestId: string;
  /** `strict-transport-security`, when set. */
  hsts?: string;
  /** `alt-svc`, when set. */
  altSvc?: string;
}

/** A head's fields and the body length it declares (-1: none). */
export interface ResponseFields {
  /** The fields in the order they are sent, `:status` first. */
  fields: Array<[string, string]>;
  /** The Content-Length given by the handler (argument first, else its field), or -1. */
  length: number;
}

/**
 * The fields of a response head. The status has been checked by the caller; a bad header name or
 * value throws `TypeError`.
 *
 * @example
 * ```ts
 * import { responseFields } from "./response_fields.ts";
 * const { fields, length } = responseFields(200, [["Content-Type", "text/plain"]], 2, { requestId: "a-1" });
 * console.log(fields[0], length); // [":status", "200"] 2
 * ```
 */
export function responseFields(
  status: number,
  headers: ResponseHeaders | undefined,
  contentLength: number | undefined,
  extras: HeadExtras,
): ResponseFields {
  const fields: Array<[string, string]> = [[":status", String(status)]];
  const pairs = headers instanceof PreparedHeaders ? headers.pairs : headers ?? [];
  let length = contentLength ?? -1;
  for (const [rawName, value] of pairs) {
    const name = rawName.toLowerCase();
    if (name === "content-length") {
      if (length < 0 && /^[0-9]{1,15}$/.test(value)) length = Number(value);
      continue;
    }
    if (DROPPED.has(name)) continue;
    if (!isFieldName(rawName)) throw new TypeError(`invalid header name ${JSON.stringify(rawName)}`);
    if (!isFieldValue(value)) throw new TypeError(`invalid character in the value of header ${rawName}`);
    fields.push([name, value]);
  }
  if (length >= 0 && status !== 204 && status !== 304) fields.push(["content-length", String(length)]);
  fields.push(["date", httpDate()], ["server", "ferry"], ["x-request-id", extras.requestId]);
  if (extras.hsts !== undefined) fields.push(["strict-transport-security", extras.hsts]);
  if (extras.altSvc !== undefined) fields.push(["alt-svc", extras.altSvc]);
  return { fields, length };
}
