/**
 * A connection's read buffer, as one object (Go's `bufio.Reader`): what was received and not yet
 * consumed, and the socket read behind it. It starts small (1 KiB), is compacted before it grows,
 * grows by doubling up to a bound (the largest head allowed), and between requests takes the size
 * this client's bytes have needed (256 bytes to 4 KiB: an idle keep-alive connection keeps what it
 * reads into while it waits, so a client with small heads costs little). The connection owns one; the parser,
 * bodies, chunked decoding and the client-gone watch call it and never touch its positions.
 *
 * @module
 */

/** Where a {@linkcode ReadBuffer} gets its bytes: the socket, as its connection reads it. */
export interface ReadSource {
  /** Reads into `into`; the count, or null at the end of the stream. */
  read(into: Uint8Array): Promise<number | null>;
  /**
   * A read already in flight whose bytes join the buffer (the client-gone watch's), to wait for
   * before reading again; undefined when none is.
   */
  inFlight?(): Promise<void> | undefined;
}

/**
 * Initial read buffer (nginx's `client_header_buffer_size` is 1k too): most heads fit, an idle
 * connection stays cheap, and a larger head grows it.
 */
export const READ_BUFFER_BYTES = 1024;

/**
 * Least an idle connection keeps: a client whose heads are small (wrk's 40 bytes, curl's 80, an API
 * client's 200) waits for its next request with this much, not {@linkcode READ_BUFFER_BYTES}.
 */
export const IDLE_MIN_BYTES = 256;

/**
 * Most an idle connection keeps of a buffer its heads grew: a client whose heads needed more than
 * 1 KiB (cookies) keeps up to this much, so its next request is not read in growing pieces again.
 */
export const IDLE_KEEP_BYTES = 4096;

/**
 * Received bytes not yet consumed, over a {@linkcode ReadSource}.
 *
 * @example
 * ```ts
 * import { ReadBuffer } from "./read_buffer.ts";
 * const pieces = [new TextEncoder().encode("hello")];
 * const source = {
 *   read(into: Uint8Array) {
 *     const p = pieces.shift();
 *     if (p === undefined) return Promise.resolve(null);
 *     into.set(p);
 *     return Promise.resolve(p.length);
 *   },
 * };
 * const b = new ReadBuffer(source, 4096);
 * await b.fill();
 * console.log(b.available(), new TextDecoder().decode(b.take(4))); // 5 "hell"
 * ```
 */
export class ReadBuffer {
  #buf: Uint8Array;
  #start = 0;
  #end = 0;
  #max: number;
  #source: ReadSource;
  /** Most bytes the buffer has held at once, or twice a buffer that a read filled (more may wait). */
  #peak = 0;

  /** A buffer over `source` that grows to at most `maxBytes`, holding `early` bytes first (a sniffer's). */
  constructor(source: ReadSource, maxBytes: number, early?: Uint8Array) {
    this.#source = source;
    this.#max = maxBytes;
    this.#buf = new Uint8Array(Math.max(READ_BUFFER_BYTES, early?.length ?? 0));
    if (early !== undefined) {
      this.#buf.set(early);
      this.#end = early.length;
      this.#saw();
    }
  }

  /** Notes how full the buffer got (after bytes were added), for {@linkcode ReadBuffer.idle}. */
  #saw(): void {
    const end = this.#end;
    const seen = end === this.#buf.length ? end * 2 : end;
    if (seen > this.#peak) this.#peak = seen;
  }

  /** Bytes received and not yet consumed. */
  available(): number {
    return this.#end - this.#start;
  }

  /** The backing array, for scanners over `array[offset..limit)` (the parser, the chunk framing). */
  get array(): Uint8Array {
    return this.#buf;
  }

  /** Index of the first unconsumed byte in {@linkcode ReadBuffer.array}. */
  get offset(): number {
    return this.#start;
  }

  /** Index one past the last received byte in {@linkcode ReadBuffer.array}. */
  get limit(): number {
    return this.#end;
  }

  /** The capacity of the backing array (what an idle connection holds). */
  get capacity(): number {
    return this.#buf.length;
  }

  /** Marks `n` bytes consumed (a scanner's progress). */
  consume(n: number): void {
    if (n < 0 || n > this.#end - this.#start) throw new RangeError(`cannot consume ${n} bytes`);
    this.#start += n;
  }

  /** Consumes the next `n` bytes (at most what is available) into an array of their own. */
  take(n: number): Uint8Array {
    const k = Math.min(n, this.#end - this.#start);
    const out = this.#buf.slice(this.#start, this.#start + k);
    this.#start += k;
    return out;
  }

  /** Consumes up to `into.length` bytes into `into`; returns how many. */
  takeInto(into: Uint8Array): number {
    const n = Math.min(this.#end - this.#start, into.length);
    into.set(this.#buf.subarray(this.#start, this.#start + n));
    this.#start += n;
    return n;
  }

  /**
   * Reads more bytes from the source (after a read in flight, whose bytes may be enough), making
   * room first; false at the end of the stream.
   */
  async fill(): Promise<boolean> {
    const pending = this.#source.inFlight?.();
    if (pending !== undefined) {
      const had = this.#end - this.#start;
      await pending;
      if (this.#end - this.#start > had) return true;
    }
    const n = await this.#source.read(this.space());
    if (n === null) return false;
    this.#end += n;
    this.#saw();
    return true;
  }

  /**
   * Makes room for the next read and returns the free tail to read into (the connection's inline
   * head read; {@linkcode ReadBuffer.commit} the count after): rewinds an empty buffer, compacts a
   * full one, or grows it (doubling, at most to the bound) when the unconsumed bytes fill it.
   * Throws when it cannot grow further (the parser refuses the head before that).
   */
  space(): Uint8Array {
    const b = this.#buf;
    if (this.#start === this.#end) {
      this.#start = 0;
      this.#end = 0;
      return b;
    }
    if (this.#end === b.length) {
      if (this.#start > 0) {
        b.copyWithin(0, this.#start, this.#end);
        this.#end -= this.#start;
        this.#start = 0;
      } else {
        const size = Math.min(b.length * 2, this.#max);
        if (size <= b.length) throw new Error("read buffer cannot grow further");
        const grown = new Uint8Array(size);
        grown.set(b.subarray(0, this.#end));
        this.#buf = grown;
      }
    }
    return this.#buf.subarray(this.#end);
  }

  /** Counts `n` bytes read into the tail {@linkcode ReadBuffer.space} returned. */
  commit(n: number): void {
    this.#end += n;
    this.#saw();
  }

  /** Appends `bytes` read elsewhere (the gone watch's read), compacting or growing past the bound. */
  append(bytes: Uint8Array): void {
    const live = this.#end - this.#start;
    if (this.#buf.length - this.#end < bytes.length) {
      if (live + bytes.length <= this.#buf.length) this.#buf.copyWithin(0, this.#start, this.#end);
      else {
        const grown = new Uint8Array(Math.max(this.#buf.length * 2, live + bytes.length));
        grown.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = grown;
      }
      this.#start = 0;
      this.#end = live;
    }
    this.#buf.set(bytes, this.#end);
    this.#end += bytes.length;
    this.#saw();
  }

  /**
   * Empties the buffer between requests and gives it the size this client's bytes have needed: the
   * power of two at or above the most it held at once (a read that filled it counts twice its
   * size), at least {@linkcode IDLE_MIN_BYTES} and at most {@linkcode IDLE_KEEP_BYTES}. The most
   * held only grows, so a connection's buffer changes size a few times at most.
   */
  idle(): void {
    const peak = this.#peak;
    let size = IDLE_MIN_BYTES;
    while (size < peak && size < IDLE_KEEP_BYTES) size *= 2;
    if (this.#buf.length !== size) this.#buf = new Uint8Array(size);
    this.#start = 0;
    this.#end = 0;
  }
}
