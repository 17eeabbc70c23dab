/**
 * The one choice of body framing for a parsed head (RFC 9112 §6.3): chunked, else a
 * Content-Length within the limit, else none. The connection and the test replay both use it.
 *
 * @module
 */

import { type Body, type ByteSource, EmptyBody, FixedBody } from "./body.ts";
import { ChunkedBody } from "./chunked.ts";
import type { RequestHead } from "./parser.ts";

const EMPTY_BODY = new EmptyBody();

/**
 * The body of `head`, read from `src`: chunked (at most `limit` data bytes, trailers at most
 * `maxTrailerBytes`), a Content-Length body when it is within `limit`, else the empty body (a
 * declared length over the limit is refused from the head, before any byte is read).
 *
 * @example
 * ```ts ignore
 * const body = bodyFor(head, connection, options.maxBodyBytes, options.maxHeaderBytes);
 * ```
 */
export function bodyFor(head: RequestHead, src: ByteSource, limit: number, maxTrailerBytes: number): Body {
  if (head.chunked) return new ChunkedBody(src, limit, maxTrailerBytes);
  if (head.contentLength > 0 && head.contentLength <= limit) return new FixedBody(src, head.contentLength);
  return EMPTY_BODY;
}
