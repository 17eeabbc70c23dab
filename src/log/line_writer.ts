/**
 * The batching line writer under every log: a growable line buffer, and a writer that queues whole
 * lines and writes them in batches, one write at a time, dropping and counting lines past a bound
 * instead of piling them up in memory.
 *
 * @module
 */

/** Something that accepts bytes, like `Deno.stdout`. */
export interface LogSink {
  /** Writes some of `p`. */
  write(p: Uint8Array): Promise<number>;
}

/**
 * A growable byte buffer that log lines are encoded into: the access-line encoder writes into
 * {@linkcode LineBuffer.reserve}'s array directly, other lines go through `TextEncoder.encodeInto`.
 *
 * @example
 * ```ts
 * import { LineBuffer } from "./logger.ts";
 * const b = new LineBuffer();
 * b.text("status=200 ✓");
 * console.log(new TextDecoder().decode(b.bytes())); // "status=200 ✓"
 * ```
 */
export class LineBuffer {
  #buf: Uint8Array;
  /** Bytes used. */
  length = 0;

  /** An empty buffer of `capacity` bytes (it grows as needed). */
  constructor(capacity = 4096) {
    this.#buf = new Uint8Array(capacity);
  }

  /** Makes room for `n` more bytes and returns the underlying array. */
  reserve(n: number): Uint8Array {
    if (this.length + n > this.#buf.length) {
      const grown = new Uint8Array(Math.max(this.#buf.length * 2, this.length + n));
      grown.set(this.#buf.subarray(0, this.length));
      this.#buf = grown;
    }
    return this.#buf;
  }

  /** The bytes written so far (a view, valid until the next write). */
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.length);
  }

  /** Appends any string as UTF-8. */
  text(s: string): void {
    const buf = this.reserve(s.length * 3);
    this.length += encoder.encodeInto(s, buf.subarray(this.length)).written;
  }

  /** Forgets the contents. */
  clear(): void {
    this.length = 0;
  }
}

/** The UTF-8 encoder the log encoders share. */
export const encoder: TextEncoder = new TextEncoder();

/**
 * Queues lines and writes them in batches, one write in flight at a time. Lines are encoded into
 * a byte buffer as they come; a batch is one write of that buffer while the next batch fills a
 * second one.
 */
export class LineWriter {
  #sink: LogSink;
  #queue = new LineBuffer(64 * 1024);
  #spare: LineBuffer | null = new LineBuffer(64 * 1024);
  #writing: Promise<void> | null = null;
  #maxQueued: number;
  /** Lines dropped because the sink could not keep up. */
  dropped = 0;

  #onDrop: (() => void) | undefined;
  #delayMs: number;
  #batchBytes: number;
  #wake: (() => void) | undefined;

  /**
   * A writer to `sink`, holding at most `maxQueuedBytes` of unwritten lines. With `delayMs` > 0,
   * lines are gathered for up to that long (or until `batchBytes` are queued) and written
   * together, as nginx's buffered access log does.
   */
  constructor(
    sink: LogSink,
    maxQueuedBytes = 8 * 1024 * 1024,
    onDrop?: () => void,
    delayMs = 0,
    batchBytes = 64 * 1024,
  ) {
    this.#sink = sink;
    this.#maxQueued = maxQueuedBytes;
    this.#onDrop = onDrop;
    this.#delayMs = delayMs;
    this.#batchBytes = batchBytes;
  }

  /** Queues one line (a newline is added). */
  line(text: string): void {
    const q = this.begin();
    q.text(text);
    this.end();
  }

  #mark = 0;

  /** Starts a line: encode it into the returned buffer, then call {@linkcode LineWriter.end}. */
  begin(): LineBuffer {
    this.#mark = this.#queue.length;
    return this.#queue;
  }

  /** Ends the line begun by {@linkcode LineWriter.begin}; drops it if the queue is over its bound. */
  end(): void {
    const q = this.#queue;
    if (q.length + 1 > this.#maxQueued) {
      q.length = this.#mark;
      this.dropped++;
      this.#onDrop?.();
      return;
    }
    q.reserve(1)[q.length++] = 0x0a;
    if (this.#writing === null) this.#writing = this.#drain();
    else if (q.length >= this.#batchBytes) this.#wake?.();
  }

  /**
   * Waits for the batch to fill up, or the delay to pass, or a flush to ask. One timer serves
   * many batches: it is armed only when none is pending, so under load (batches fill in a few
   * milliseconds) a batch costs no timer; a timer left from an earlier batch may end a later
   * gathering early, which only makes that batch smaller.
   */
  #gather(): Promise<void> {
    if (this.#delayMs <= 0 || this.#flushing > 0 || this.#queue.length >= this.#batchBytes) return RESOLVED;
    return new Promise<void>((resolve) => {
      this.#wake = () => {
        this.#wake = undefined;
        resolve();
      };
      if (!this.#timerArmed) {
        this.#timerArmed = true;
        setTimeout(() => {
          this.#timerArmed = false;
          this.#wake?.();
        }, this.#delayMs);
      }
    });
  }

  #timerArmed = false;
  #flushing = 0;

  async #drain(): Promise<void> {
    // Let the current burst of lines queue up before writing them together.
    await RESOLVED;
    for (;;) {
      await this.#gather();
      if (this.#queue.length === 0) break;
      const batch = this.#queue;
      this.#queue = this.#spare ?? new LineBuffer(64 * 1024);
      this.#spare = null;
      const bytes = batch.bytes();
      try {
        let off = 0;
        while (off < bytes.length) off += await this.#sink.write(bytes.subarray(off));
      } catch {
        this.dropped++;
        this.#onDrop?.();
      }
      batch.clear();
      // A batch that grew far beyond the usual size is not kept.
      if (batch.reserve(0).length <= 4 * this.#batchBytes) this.#spare = batch;
    }
    this.#writing = null;
  }

  /** Resolves when everything queued so far has been written. */
  async flush(): Promise<void> {
    this.#flushing++;
    try {
      while (this.#writing !== null) {
        this.#wake?.();
        await this.#writing;
      }
    } finally {
      this.#flushing--;
    }
  }
}

const RESOLVED: Promise<void> = Promise.resolve();

/** Closes each of `sinks` that can be closed (a file finishes its gzip), once; never stdout or stderr. */
export async function closeSinks(sinks: Iterable<LogSink>): Promise<void> {
  for (const sink of new Set(sinks)) {
    const closable = sink as LogSink & { close?: () => Promise<void> | void };
    if (typeof closable.close === "function" && sink !== Deno.stdout && sink !== Deno.stderr) {
      await closable.close();
    }
  }
}
