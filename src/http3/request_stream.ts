/**
 * A request stream as the server reads it (RFC 9114 §4.1): HEADERS, then DATA frames, then
 * optionally a trailing HEADERS, and unknown frame types anywhere. A field section larger than
 * the limit is refused with 431 before it is decoded (its frame is skipped, not kept) or after
 * (its decoded size); a malformed request (§4.1.2, the rules of HTTP/2's `request_head.ts`) is
 * answered 400 with the reason; frames out of order are connection errors. No I/O.
 *
 * @module
 */

import type { RequestFields } from "../http/request.ts";
import type { HeaderList } from "../http/headers.ts";
import { MalformedRequest, requestFields, trailerFields } from "../http2/request_head.ts";
import { H3, H3Error } from "./errors.ts";
import { FRAME, FrameReader, HTTP2_ONLY } from "./frames.ts";
import { decodeFieldSection } from "./qpack.ts";
import type { WasteMeter } from "./control.ts";

/** What a request stream gives the connection. */
export type RequestEvent =
  /** The request's head, checked. */
  | { kind: "head"; fields: RequestFields }
  /** Body bytes (a view of the piece pushed: copy to keep). */
  | { kind: "data"; bytes: Uint8Array }
  /** The trailer section. */
  | { kind: "trailers"; trailers: HeaderList }
  /** The client ended the stream after a whole request. */
  | { kind: "end" }
  /**
   * The request cannot be served: before its head, it is answered with `status` (431 too large,
   * 400 malformed); after, the stream is cut. Nothing more is read.
   */
  | { kind: "reject"; status: 400 | 431; reason: string };

type Phase = "head" | "body" | "trailers" | "done";

/**
 * One request stream.
 *
 * @example
 * ```ts
 * import { RequestStream } from "./request_stream.ts";
 * const s = new RequestStream({ waste() {} }, 16384);
 * const events = s.push(new Uint8Array([0x01, 0x05, 0x00, 0x00, 0xd1, 0xd7, 0xc1]));
 * console.log(events[0].kind); // "head"
 * ```
 */
export class RequestStream {
  #meter: WasteMeter;
  #maxFieldSection: number;
  #frames: FrameReader;
  #phase: Phase = "head";
  #contentLength = -1;
  #received = 0;

  /** A stream whose field sections may be `maxFieldSection` bytes, encoded and decoded. */
  constructor(meter: WasteMeter, maxFieldSection: number) {
    this.#meter = meter;
    this.#maxFieldSection = maxFieldSection;
    this.#frames = new FrameReader(maxFieldSection);
  }

  /** Whether the request was refused or ended: later bytes are not read. */
  get done(): boolean {
    return this.#phase === "done";
  }

  /** Reads `chunk`; throws {@linkcode H3Error} for a connection error. */
  push(chunk: Uint8Array): RequestEvent[] {
    const out: RequestEvent[] = [];
    if (this.#phase === "done") return out;
    for (const f of this.#frames.push(chunk)) {
      if (f.kind === "skipped") {
        if (!f.tooLarge) {
          this.#meter.waste(1);
          continue;
        }
        if (f.type !== FRAME.HEADERS) this.#unexpected(f.type);
        // §4.2.2: a field section over the limit: 431 (the frame was skipped, never buffered).
        return this.#reject(
          out,
          431,
          `field section of ${f.length} bytes is over the ${this.#maxFieldSection}-byte limit`,
        );
      }
      if (f.kind === "data") {
        if (this.#phase !== "body") {
          throw new H3Error(
            H3.FRAME_UNEXPECTED,
            this.#phase === "head" ? "DATA before HEADERS" : "DATA after trailers",
          );
        }
        if (f.bytes.length === 0) {
          this.#meter.waste(1);
          continue;
        }
        this.#received += f.bytes.length;
        if (this.#contentLength >= 0 && this.#received > this.#contentLength) {
          return this.#reject(out, 400, "more DATA than the content-length");
        }
        out.push(f);
        continue;
      }
      if (f.type !== FRAME.HEADERS) this.#unexpected(f.type);
      if (this.#phase === "trailers") throw new H3Error(H3.FRAME_UNEXPECTED, "HEADERS after trailers");
      const section = decodeFieldSection(f.payload, this.#maxFieldSection);
      if (section.overflow) {
        return this.#reject(
          out,
          431,
          `decoded field section is over the ${this.#maxFieldSection}-byte limit`,
        );
      }
      try {
        if (this.#phase === "head") {
          const fields = requestFields(section.names, section.values);
          this.#contentLength = fields.contentLength;
          this.#phase = "body";
          out.push({ kind: "head", fields });
        } else {
          this.#phase = "trailers";
          out.push({ kind: "trailers", trailers: trailerFields(section.names, section.values) });
        }
      } catch (e) {
        if (!(e instanceof MalformedRequest)) throw e;
        return this.#reject(out, 400, malformedReason(e, section.names.includes("upgrade")));
      }
    }
    return out;
  }

  /** The client ended the stream. */
  end(): RequestEvent[] {
    const out: RequestEvent[] = [];
    if (this.#phase === "done") return out;
    // §7.1 makes a clean end inside a frame H3_FRAME_ERROR for the connection; but Deno 2.9.6
    // shows a stream the client reset (RESET_STREAM) as ended too, so here it is the request's
    // end, not the connection's.
    if (this.#frames.midFrame) {
      return this.#reject(out, 400, "the stream ended (or was reset) inside a frame");
    }
    if (this.#phase === "head") return this.#reject(out, 400, "the stream ended before its HEADERS");
    if (this.#contentLength >= 0 && this.#received !== this.#contentLength) {
      return this.#reject(out, 400, "less DATA than the content-length");
    }
    this.#phase = "done";
    out.push({ kind: "end" });
    return out;
  }

  #reject(out: RequestEvent[], status: 400 | 431, reason: string): RequestEvent[] {
    this.#phase = "done";
    out.push({ kind: "reject", status, reason });
    return out;
  }

  #unexpected(type: number): never {
    const what = HTTP2_ONLY.has(type) ? "HTTP/2 frame type" : "frame";
    throw new H3Error(H3.FRAME_UNEXPECTED, `${what} 0x${type.toString(16)} on a request stream`);
  }
}

/**
 * A malformed request's reason; a WebSocket attempt (an `upgrade` field, or `:protocol`: RFC 9220
 * needs a setting ferry does not send) says what to use instead.
 */
function malformedReason(e: MalformedRequest, upgrade: boolean): string {
  return e.http11 || upgrade
    ? `${e.message}: WebSocket over HTTP/3 (RFC 9220) is not offered; use HTTP/1.1 or HTTP/2`
    : e.message;
}
