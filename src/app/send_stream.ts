/**
 * A fetch app's stream body on its way out: chunk by chunk, each flushed as the app produces it
 * (server-sent events reach the client at once), except a stream that was already complete when
 * the app returned it (its chunks queued, then closed), which goes out whole with a
 * Content-Length as a string body would. "Already complete" is decided within a few microtasks,
 * never a timer: a stream whose next chunk is not there by then is streamed.
 *
 * @module
 */

import { concatBytes } from "../bytes.ts";
import type { ResponseWriter } from "../http/writer.ts";
import type { FieldPairs } from "./response_parts.ts";

/** A finished stream is gathered whole up to this many bytes; past them it is streamed. */
const WHOLE_MAX_BYTES = 64 * 1024;

const NOT_YET = Symbol("not yet");

/** Resolves after a few microtasks (no macrotask): long enough for a queued chunk or a close to show. */
function soon(): Promise<typeof NOT_YET> {
  return Promise.resolve().then(() => undefined).then(() => undefined).then(() => NOT_YET);
}

/** What the reads that were ready at once gave: the chunks, and whether the stream ended. */
interface Ready {
  chunks: Uint8Array[];
  bytes: number;
  ended: boolean;
  /** The read still pending when the stream was not done, to await next. */
  pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
}

/** Reads what `reader` has ready (after its first chunk, which may take its time). */
async function readReady(reader: ReadableStreamDefaultReader<Uint8Array>, max: number): Promise<Ready> {
  const ready: Ready = { chunks: [], bytes: 0, ended: false, pending: undefined };
  const first = await reader.read();
  if (first.done) {
    ready.ended = true;
    return ready;
  }
  ready.chunks.push(first.value);
  ready.bytes = first.value.length;
  while (ready.bytes <= max) {
    const next = reader.read();
    const step = await Promise.race([next, soon()]);
    if (step === NOT_YET) {
      ready.pending = next;
      return ready;
    }
    if (step.done) {
      ready.ended = true;
      return ready;
    }
    ready.chunks.push(step.value);
    ready.bytes += step.value.length;
  }
  return ready;
}

/**
 * Sends `stream` as the body of a `status` response (`length` when known, else -1): whole when it
 * was complete, else streamed and flushed chunk by chunk. For a response without a body (HEAD,
 * 204, 304) the stream is cancelled, once its length is known if it can be.
 *
 * @example
 * ```ts ignore
 * await sendStream(200, [["content-type", "text/event-stream"]], events, -1, res);
 * ```
 */
export async function sendStream(
  status: number,
  headers: FieldPairs,
  stream: ReadableStream<Uint8Array>,
  length: number,
  res: ResponseWriter,
): Promise<void> {
  const reader = stream.getReader();
  try {
    if (res.discardsBodyFor(status)) {
      // HEAD: the length a GET would have sent, when it is known or the stream was complete.
      let n = length;
      if (n < 0 && status !== 204 && status !== 304) {
        const ready = await readReady(reader, WHOLE_MAX_BYTES);
        if (ready.ended) n = ready.bytes;
      }
      res.writeHead(status, headers, status === 204 || status === 304 ? -1 : n);
      await reader.cancel().catch(() => {});
      await res.end();
      return;
    }
    // With a known length there is nothing to find out: stream from the first chunk.
    const ready = await readReady(reader, length < 0 ? WHOLE_MAX_BYTES : 0);
    if (ready.ended && (length < 0 || length === ready.bytes)) {
      await res.send(status, headers, concatBytes(ready.chunks, ready.bytes));
      return;
    }
    res.writeHead(status, headers, length);
    for (const chunk of ready.chunks) await res.write(chunk);
    await res.flush();
    let next = ready.ended ? undefined : ready.pending ?? reader.read();
    while (next !== undefined) {
      const step = await next;
      if (step.done) break;
      await res.write(step.value);
      await res.flush();
      next = reader.read();
    }
    await res.end();
  } catch (e) {
    await reader.cancel(e).catch(() => {});
    throw e;
  } finally {
    reader.releaseLock();
  }
}
