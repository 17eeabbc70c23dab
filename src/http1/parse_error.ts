/**
 * The refusals of the byte layer: {@linkcode ParseError} with the status to answer, and the stable
 * reason codes that metrics count and tests assert.
 *
 * @module
 */

import { STATUS } from "../http/status.ts";
import { Refusal } from "../http/refusal.ts";

/**
 * Why a request was refused. The codes are stable: metrics count rejections by them and tests
 * assert them.
 */
export type ParseErrorCode =
  | "bad_request_line"
  | "bad_method"
  | "unknown_method"
  | "bad_target"
  | "target_too_long"
  | "bad_version"
  | "unsupported_version"
  | "bad_header_name"
  | "bad_header_value"
  | "whitespace_before_colon"
  | "obs_fold"
  | "bare_cr"
  | "bare_lf"
  | "header_too_large"
  | "too_many_headers"
  | "missing_host"
  | "duplicate_host"
  | "bad_host"
  | "bad_content_length"
  | "content_length_mismatch"
  | "content_length_with_transfer_encoding"
  | "transfer_encoding_http10"
  | "bad_transfer_encoding"
  | "unsupported_transfer_coding"
  | "unsupported_expectation"
  | "bad_chunk_size"
  | "bad_chunk_extension"
  | "bad_chunk_data"
  | "bad_trailer"
  | "body_too_large"
  | "body_incomplete";

/**
 * A request the server will not serve as sent. `status` is the response status (400, 413, 414,
 * 417, 431, 501 or 505); after any ParseError the connection is closed, since the framing of what
 * follows can no longer be trusted.
 *
 * @example
 * ```ts
 * import { ParseError } from "./parse_error.ts";
 * const e = new ParseError(400, "bare_lf", "LF without CR");
 * console.log(e.status, e.code); // 400 "bare_lf"
 * ```
 */
export class ParseError extends Refusal {
  /** A stable, machine-readable reason. */
  readonly code: ParseErrorCode;

  /** Creates an error with the status to answer, a reason code and a human message. */
  constructor(status: number, code: ParseErrorCode, message: string) {
    super(status, message);
    this.name = "ParseError";
    this.code = code;
  }
}

/**
 * A 400 with `code` and `message`.
 *
 * @example
 * ```ts
 * import { badRequest } from "./parse_error.ts";
 * console.log(badRequest("bare_lf", "LF without CR").status); // 400
 * ```
 */
export function badRequest(code: ParseErrorCode, message: string): ParseError {
  return new ParseError(STATUS.BadRequest, code, message);
}
