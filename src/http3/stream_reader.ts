/**
 * Reads a QUIC receive stream into a buffer of its own, reused from read to read (a BYOB
 * reader). Deno's default reader allocates 64 KiB for every read, which a request of a few dozen
 * bytes then leaves to the collector: 2,000 small requests grew ferry's resident memory by
 * 67-100 MiB. The buffer starts small and grows to 64 KiB once a read fills it (a body arriving).
 *
 * @module
 */

/** The first buffer: a request's HEADERS fit. */
const FIRST = 4 * 1024;
/** The buffer once a read filled it. */
const LARGE = 64 * 1024;

/**
 * A stream's reader.
 *
 * @example
 * ```ts ignore
 * const r = new StreamReader(bidi.readable);
 * for (let piece = await r.read(); piece !== null; piece = await r.read()) use(piece);
 * ```
 */
export class StreamReader {
  #reader: ReadableStreamBYOBReader;
  #buffer: ArrayBuffer = new ArrayBuffer(FIRST);

  /** A reader of `readable` (a byte stream, as Deno's QUIC receive streams are). */
  constructor(readable: ReadableStream<Uint8Array>) {
    this.#reader = readable.getReader({ mode: "byob" });
  }

  /** The next bytes (valid until the next read), or null at the stream's end; rejects on a reset. */
  async read(): Promise<Uint8Array | null> {
    const { value, done } = await this.#reader.read(new Uint8Array(this.#buffer));
    if (value !== undefined) this.#buffer = value.buffer as ArrayBuffer;
    if (done || value === undefined) return null;
    if (value.length === this.#buffer.byteLength && this.#buffer.byteLength < LARGE) {
      this.#buffer = new ArrayBuffer(LARGE);
    }
    return value;
  }

  /** Stops reading (STOP_SENDING). */
  cancel(): Promise<void> {
    return this.#reader.cancel();
  }
}
