/**
 * Replays request bytes through ferry's parser and body decoders the way a connection does,
 * delivering the input in pieces (split points chosen by the test). No socket is involved: this
 * is the unit-level harness for the byte machines; the live-server tests use real sockets.
 *
 * @module
 */

import type { ByteSource } from "../../src/http1/body.ts";
import { ReadBuffer, type ReadSource } from "../../src/http1/read_buffer.ts";
import { bodyFor } from "../../src/http1/body_for.ts";
import { ParseError, type ParserLimits, type RequestHead, RequestParser } from "../../src/http1/parser.ts";

/** A received message: its head and its whole body. */
export interface ReplayedMessage {
  /** The parsed head. */
  head: RequestHead;
  /** The decoded body bytes. */
  body: Uint8Array;
  /** Trailer fields of a chunked body. */
  trailers: Array<[string, string]>;
}

/** What a replay produced. */
export interface ReplayResult {
  /** Complete messages, in order. */
  messages: ReplayedMessage[];
  /** The rejection that ended it, if any. */
  error?: ParseError;
  /** Set when the input ended inside a message. */
  incomplete: boolean;
  /** Set when a message asked to close the connection, so parsing stopped there. */
  closed: boolean;
}

/** A ByteSource over pieces of an array, handed out at most one piece a `fill()`. */
class PiecesSource implements ByteSource, ReadSource {
  readonly input: ReadBuffer = new ReadBuffer(this, Number.MAX_SAFE_INTEGER);
  #pieces: Uint8Array[];

  constructor(pieces: Uint8Array[]) {
    this.#pieces = pieces.filter((p) => p.length > 0);
  }

  get exhausted(): boolean {
    return this.#pieces.length === 0;
  }

  read(into: Uint8Array): Promise<number | null> {
    return this.readDirect(into);
  }

  readDirect(into: Uint8Array): Promise<number | null> {
    const next = this.#pieces[0];
    if (next === undefined) return Promise.resolve(null);
    const n = Math.min(into.length, next.length);
    into.set(next.subarray(0, n));
    if (n === next.length) this.#pieces.shift();
    else this.#pieces[0] = next.subarray(n);
    return Promise.resolve(n);
  }
}

/** Splits `input` at the given offsets. */
export function split(input: Uint8Array, at: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of at) {
    out.push(input.subarray(prev, p));
    prev = p;
  }
  out.push(input.subarray(prev));
  return out;
}

/**
 * Parses every message in `pieces` as one connection would: head, then body, then the next
 * head. CONNECT is answered 501 by ferry's connection, so it counts as a rejection here too.
 */
export async function replay(
  pieces: Uint8Array[],
  limits: Partial<ParserLimits> = {},
  maxBodyBytes = Number.MAX_SAFE_INTEGER,
): Promise<ReplayResult> {
  const src = new PiecesSource(pieces);
  const input = src.input;
  const parser = new RequestParser(limits);
  const result: ReplayResult = { messages: [], incomplete: false, closed: false };
  try {
    for (;;) {
      if (input.available() === 0) {
        if (!(await input.fill())) break;
      }
      const n = parser.execute(input.array, input.offset, input.limit);
      if (n < 0) {
        if (!(await input.fill())) {
          result.incomplete = true;
          break;
        }
        continue;
      }
      const head = parser.finish(input.array, input.offset, n);
      input.consume(n);
      if (head.method === "CONNECT") {
        throw new ParseError(501, "unknown_method", "CONNECT is not supported (ferry is not a proxy)");
      }
      const body = bodyFor(head, src, maxBodyBytes, 16384);
      let bytes: Uint8Array;
      try {
        bytes = await body.bytes();
      } catch (e) {
        if (e instanceof ParseError && e.code === "body_incomplete") {
          result.incomplete = true;
          break;
        }
        throw e;
      }
      result.messages.push({ head, body: bytes, trailers: [...(body.trailers ?? [])] });
      if (!head.keepAlive) {
        result.closed = true;
        break;
      }
    }
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    result.error = e;
  }
  return result;
}
