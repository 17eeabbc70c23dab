/**
 * A connection's outgoing bytes: pooled 16 KiB buffers (an idle connection holds none), appends
 * without a promise turn, one write at a time with back-pressure, and large bodies written
 * straight from the caller's array.
 *
 * @module
 */

/** Size of the pooled output buffers. */
const OUT_BUFFER_BYTES = 16 * 1024;
const pool: Uint8Array[] = [];

/**
 * The already-settled promise that writes return when they completed synchronously (the bytes
 * are buffered, nothing to wait for). A handler that returns it (or `undefined`) lets the
 * connection go on without a promise turn.
 *
 * @example
 * ```ts ignore
 * const p = res.send(200, [], "hi");
 * if (p === SETTLED) console.log("buffered, nothing to await");
 * ```
 */
export const SETTLED: Promise<void> = Promise.resolve();
const RESOLVED = SETTLED;
const POOL_MAX = 256;
/**
 * Grown buffers (a power of two above 16 KiB, at most {@linkcode BIG_MAX_BYTES}) kept for the next
 * burst that outgrows 16 KiB (16 pipelined answers of 4 KiB), so that a burst does not allocate
 * and copy its way up from 16 KiB each time; at most {@linkcode BIG_POOL_BYTES} in all.
 */
const bigPool: Uint8Array[] = [];
let bigPooled = 0;
const BIG_MAX_BYTES = 1024 * 1024;
const BIG_POOL_BYTES = 4 * 1024 * 1024;

/** A buffer of at least `n` bytes: a pooled one, else a new one of the next power of two. */
function takeBig(n: number): Uint8Array {
  for (let i = 0; i < bigPool.length; i++) {
    const b = bigPool[i];
    if (b.length >= n) {
      bigPool[i] = bigPool[bigPool.length - 1];
      bigPool.pop();
      bigPooled -= b.length;
      return b;
    }
  }
  return new Uint8Array(n <= BIG_MAX_BYTES ? 2 ** Math.ceil(Math.log2(n)) : n);
}

/** Gives a buffer no longer used back to its pool (or to the garbage collector). */
function giveBack(b: Uint8Array): void {
  if (b.length === OUT_BUFFER_BYTES) {
    if (pool.length < POOL_MAX) pool.push(b);
  } else if (b.length <= BIG_MAX_BYTES && bigPooled + b.length <= BIG_POOL_BYTES) {
    bigPool.push(b);
    bigPooled += b.length;
  }
}

/** Anything with Deno.Conn's `write`. */
export interface ByteSink {
  /** Writes some of `p`; resolves to how many bytes were written. */
  write(p: Uint8Array): Promise<number>;
}

/**
 * A connection's outgoing bytes: a pooled buffer that responses append to, flushed in one
 * `write` per burst, so pipelined responses go out together. Flushes are serialised: bytes leave
 * in the order they were appended, whoever flushes.
 *
 * @example
 * ```ts ignore
 * const out = new Output(conn);
 * out.append(new TextEncoder().encode("HTTP/1.1 204 No Content\r\n\r\n"));
 * await out.flush();
 * ```
 */
export class Output {
  #sink: ByteSink;
  #buf: Uint8Array | null = null;
  #spare: Uint8Array | null = null;
  #len = 0;
  #busy: Promise<void> | null = null;
  /** Set once a write failed: the peer is gone. */
  failed = false;
  /** Bytes handed to the socket so far. */
  bytesWritten = 0;
  /** Socket writes made (a burst of pipelined responses should cost one). */
  writes = 0;
  /**
   * Since when the write in progress has made no progress (ms since the epoch); 0 when no write
   * is in progress. Writes do not read the clock: the first look at a write (the server's sweeper,
   * every quarter of the shortest timeout at most) takes the time, so a stall counts from at most
   * one sweep after the write began.
   */
  get writingSince(): number {
    if (!this.#writing) return 0;
    if (this.#seenWrite !== this.#writeSeq) {
      this.#seenWrite = this.#writeSeq;
      this.#seenAt = Date.now();
    }
    return this.#seenAt;
  }
  #writing = false;
  /** Set by a release() during a write: the buffers go back when it is done. */
  #releaseAfterWrite = false;
  /** Counts socket writes begun (each piece of a partial write too: progress restarts the clock). */
  #writeSeq = 0;
  #seenWrite = -1;
  #seenAt = 0;

  /** An output over `sink` (a `Deno.Conn`). */
  constructor(sink: ByteSink) {
    this.#sink = sink;
  }

  /** Bytes appended but not yet flushed. */
  get pending(): number {
    return this.#len;
  }

  /** Makes room for `n` more bytes and returns the buffer; write at {@linkcode Output.length}. */
  reserve(n: number): Uint8Array {
    let buf = this.#buf;
    if (buf === null) {
      buf = n <= OUT_BUFFER_BYTES ? (pool.pop() ?? new Uint8Array(OUT_BUFFER_BYTES)) : takeBig(n);
      this.#buf = buf;
    }
    if (this.#len + n > buf.length) {
      const grown = takeBig(Math.max(buf.length * 2, this.#len + n));
      grown.set(buf.subarray(0, this.#len));
      giveBack(buf);
      this.#buf = buf = grown;
    }
    return buf;
  }

  /** Index in the buffer where the next byte goes. */
  get length(): number {
    return this.#len;
  }

  /** Sets the number of buffered bytes (after writing into {@linkcode Output.reserve}'s buffer). */
  set length(n: number) {
    this.#len = n;
  }

  /** Appends a copy of `bytes`. */
  append(bytes: Uint8Array): void {
    const n = bytes.length;
    const buf = this.reserve(n);
    let p = this.#len;
    if (n <= 64) {
      // A loop beats TypedArray#set's call for the short pieces a head is made of.
      for (let i = 0; i < n; i++) buf[p++] = bytes[i];
    } else {
      buf.set(bytes, p);
      p += n;
    }
    this.#len = p;
  }

  /** Appends a non-negative integer in decimal. */
  appendDecimal(n: number): void {
    if (n < 10) {
      this.reserve(1)[this.#len++] = 0x30 + n;
      return;
    }
    if (n < 1e9 && (n | 0) === n) {
      // Lengths of bodies: the digits straight into the buffer, no string.
      let digits = 2;
      for (let x = 100; x <= n; x *= 10) digits++;
      const buf = this.reserve(digits);
      let q = this.#len + digits;
      this.#len = q;
      for (let x = n; q > this.#len - digits; x = (x / 10) | 0) buf[--q] = 0x30 + x % 10;
      return;
    }
    this.appendAscii(String(n));
  }

  /** Appends an ASCII string (callers guarantee it is ASCII). */
  appendAscii(s: string): void {
    const buf = this.reserve(s.length);
    let p = this.#len;
    for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i);
    this.#len = p;
  }

  /**
   * Writes everything buffered to the socket. Not an async function: on the hot path a response
   * costs one `write` and one promise, not a chain of them.
   */
  flush(): Promise<void> {
    if (this.#busy !== null) return this.#busy.then(() => this.flush());
    const n = this.#len;
    if (n === 0) return RESOLVED;
    if (this.failed) return Promise.reject(new Deno.errors.BrokenPipe("connection write failed earlier"));
    const buf = this.#buf!;
    this.#buf = this.#spare;
    this.#spare = null;
    this.#len = 0;
    this.writes++;
    return this.#busy = this.#writeFrom(buf, 0, n, true);
  }

  /** The write in flight, if any (settles when it is done). */
  get inFlight(): Promise<void> | null {
    return this.#busy;
  }

  /** Flushes, then writes `bytes` straight from the caller's array (no copy). */
  writeDirect(bytes: Uint8Array): Promise<void> {
    if (this.#busy !== null || this.#len > 0) return this.flush().then(() => this.writeDirect(bytes));
    if (this.failed) return Promise.reject(new Deno.errors.BrokenPipe("connection write failed earlier"));
    this.writes++;
    return this.#busy = this.#writeFrom(bytes, 0, bytes.length, false);
  }

  /** Writes `buf[off..n)`, looping over partial writes; `pooled` buffers go back to the spare slot. */
  #writeFrom(buf: Uint8Array, off: number, n: number, pooled: boolean): Promise<void> {
    this.#writing = true;
    this.#writeSeq++;
    return this.#sink.write(off === 0 && n === buf.length ? buf : buf.subarray(off, n)).then(
      (written) => {
        off += written;
        if (off < n) return this.#writeFrom(buf, off, n, pooled);
        this.#writing = false;
        this.bytesWritten += n;
        this.#busy = null;
        if (pooled) {
          if (this.#spare === null) this.#spare = buf;
          else giveBack(buf);
        }
        if (this.#releaseAfterWrite) this.release();
      },
      (e) => {
        this.#writing = false;
        this.failed = true;
        this.#busy = null;
        throw e;
      },
    );
  }

  /**
   * Returns idle buffers to the shared pool, so an idle connection holds none; with a write in
   * flight, once it is done.
   */
  release(): void {
    if (this.#busy !== null) {
      this.#releaseAfterWrite = true;
      return;
    }
    this.#releaseAfterWrite = false;
    if (this.#len !== 0) return;
    if (this.#buf !== null) giveBack(this.#buf);
    if (this.#spare !== null) giveBack(this.#spare);
    this.#buf = null;
    this.#spare = null;
  }
}
