/**
 * One Python worker process: started with `worker.py` (WSGI) or `asgi_worker.py` (ASGI), reached
 * over its own Unix domain socket in ferry's private directory, proven by a token. A plain WSGI
 * worker serves one request at a time; a threaded WSGI worker or an ASGI worker serves many at
 * once, one stream each. Its stdout and stderr are logged line by line, tagged with its pid and
 * (one at a time) the request it is serving.
 *
 * @module
 */

import { join } from "path";
import { timingSafeEqual } from "node:crypto";
import type { Logger } from "../../log/logger.ts";
import { OutputLines } from "./output_lines.ts";
import { encodeFrame, FRAME, type Frame, FRAME_HEADER_BYTES, FrameReader } from "./frames.ts";
import { AsgiStartupError, WorkerGone, WsgiImportError } from "./worker_errors.ts";

export { AsgiStartupError, WorkerGone, WsgiImportError };

/** How a worker is started. */
export interface PythonWorkerSpec {
  /** The Python interpreter. */
  python: string;
  /** `MODULE:CALLABLE` or `MODULE:factory(...)`. */
  app: string;
  /** Working directory of the worker (also first on `sys.path`). */
  chdir: string;
  /** More directories for `sys.path`. */
  pythonpath: string[];
  /** ferry's private (0700) directory: sockets and spilled bodies. */
  dir: string;
  /** The worker script's path inside {@linkcode PythonWorkerSpec.dir}. */
  script: string;
  /** Most milliseconds from spawn to READY (the app's import included). */
  startTimeoutMs: number;
  /**
   * Most milliseconds of the ASGI lifespan startup (`--asgi-startup-timeout`), on top of
   * `startTimeoutMs`: the worker ends a startup that takes longer with its own message; ferry's
   * clock covers a startup that blocks the worker's loop. 0: no lifespan timeout.
   */
  lifespanTimeoutMs?: number;
  /** Where the worker's output and ferry's notes about it go. */
  log: Logger;
  /** Whether the worker serves its streams at once (threaded WSGI, ASGI) rather than in order. */
  concurrent?: boolean;
  /** The app's interface, for messages. */
  kind?: "WSGI" | "ASGI";
  /** More environment for the worker (its mode: threads, lifespan). */
  env?: Record<string, string>;
}

const NO_FRAMES: readonly Frame[] = [];

/** Writes `v` big-endian at `at`. */
function putU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = (v >>> 16) & 0xff;
  out[at + 2] = (v >>> 8) & 0xff;
  out[at + 3] = v & 0xff;
}
const noop = () => {};

/** Microtask turns a write to a worker waits for more frames to join it (see `send`). */
const BATCH_TURNS = 4;

/** How long an exit waits for the frames (or the connection) the worker sent before it. */
const EXIT_BEFORE_ACCEPT_MS = 3000;

/** One request's frames on a worker. */
interface StreamState {
  frames: Frame[];
  waiter: { resolve: (f: Frame) => void; reject: (e: Error) => void } | undefined;
  requestId: string;
  onStart: () => void;
  /** queued: sent, behind another; running: the worker is serving it; done: its END arrived. */
  phase: "queued" | "running" | "done";
}

let nextWorkerId = 1;

/** Spawns the interpreter of `spec` on its worker script, told where to connect and what to present. */
function spawnWorker(spec: PythonWorkerSpec, socketPath: string, token: string): Deno.ChildProcess {
  try {
    return new Deno.Command(spec.python, {
      args: [spec.script],
      cwd: spec.chdir,
      env: {
        FERRY_WSGI_SOCKET: socketPath,
        FERRY_WSGI_TOKEN: token,
        FERRY_WSGI_APP: spec.app,
        FERRY_WSGI_PATH: [spec.chdir, ...spec.pythonpath].join(":"),
        PYTHONUNBUFFERED: "1",
        ...spec.env,
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      // A session (and process group) of its own: Ctrl-C in a terminal signals the foreground
      // process group, which is ferry's to drain; the workers stop when ferry stops them.
      detached: true,
    }).spawn();
  } catch (e) {
    throw new Error(
      `cannot start the Python interpreter ${spec.python}: ${e instanceof Error ? e.message : e} ` +
        "(set --wsgi-python to a working python3)",
    );
  }
}

/**
 * A running worker. {@linkcode PythonWorker.start} resolves once the app has imported.
 *
 * @example
 * ```ts ignore
 * const w = await PythonWorker.start(spec);
 * await w.send(requestFrame(1, 65536, environ, body));
 * const frame = await w.nextFrame();
 * ```
 */
export class PythonWorker {
  /** ferry's number for the worker. */
  readonly id: number = nextWorkerId++;
  /** The process id. */
  readonly pid: number;
  /** Requests served. */
  served = 0;
  /** Requests the pool has handed this worker and not had back (more than 1 when pipelined). */
  assigned = 0;
  /** Recycle after this many requests (0: never). */
  maxRequests = 0;
  /** Set when the worker must not take another request (max requests, RSS, reload). */
  retireReason: string | undefined;
  /** The request being served, for tagging the worker's output. */
  requestId: string | undefined;
  /** Resolves when the process has exited. */
  readonly exited: Promise<Deno.CommandStatus>;
  /** Whether the worker serves its streams at once (threaded WSGI, ASGI). */
  readonly concurrent: boolean;

  #child: Deno.ChildProcess;
  #conn: Deno.UnixConn | undefined;
  #reader = new FrameReader();
  #frames: Frame[] = [];
  #waiter: { resolve: (f: Frame) => void; reject: (e: Error) => void } | undefined;
  /** Open request streams, in the order their REQUEST frames were sent. */
  #streams = new Map<number, StreamState>();
  #gone: WorkerGone | undefined;
  #stopping = false;
  #log: Logger;
  #pumps: Promise<void>;

  private constructor(child: Deno.ChildProcess, log: Logger, concurrent: boolean) {
    this.concurrent = concurrent;
    this.#child = child;
    this.pid = child.pid;
    this.#log = log;
    this.exited = child.status;
    this.#pumps = Promise.all([
      this.#lines(child.stdout, "stdout"),
      this.#lines(child.stderr, "stderr"),
    ]).then(() => {});
    this.exited.then((s) => {
      const why = `the worker exited (${s.signal ?? `code ${s.code}`})`;
      // Frames the worker wrote before it exited (an IMPORT_ERROR, a last END) may still be on
      // their way through the socket, not yet accepted even: the read loop reports the exit when
      // it reaches the end.
      // A process the app forked may hold the socket open after the worker is gone: a few
      // seconds at most, then the exit is reported all the same.
      if (this.#reading || this.#conn === undefined) {
        this.#exitedWhy = why;
        Deno.unrefTimer(setTimeout(() => this.#fail(why), EXIT_BEFORE_ACCEPT_MS));
      } else this.#fail(why);
    });
  }

  /** Starts a worker and waits until its app has imported; throws {@linkcode WsgiImportError}. */
  static async start(spec: PythonWorkerSpec): Promise<PythonWorker> {
    const token = Array.from(
      crypto.getRandomValues(new Uint8Array(24)),
      (b) => b.toString(16).padStart(2, "0"),
    )
      .join("");
    const socketPath = join(spec.dir, `worker-${nextWorkerId}-${crypto.randomUUID().slice(0, 8)}.sock`);
    const listener = Deno.listen({ transport: "unix", path: socketPath });
    let child: Deno.ChildProcess;
    try {
      child = spawnWorker(spec, socketPath, token);
    } catch (e) {
      listener.close();
      await Deno.remove(socketPath).catch(() => {});
      throw e;
    }
    const w = new PythonWorker(child, spec.log, spec.concurrent ?? false);
    const deadline = { timer: undefined as ReturnType<typeof setTimeout> | undefined };
    try {
      await w.#connect(listener, spec, token, deadline);
      await w.#ready(spec, deadline);
      return w;
    } catch (e) {
      w.kill("SIGKILL");
      await w.exited;
      await w.#pumps;
      throw e;
    } finally {
      clearTimeout(deadline.timer);
      listener.close();
      await Deno.remove(socketPath).catch(() => {});
    }
  }

  /**
   * Accepts the new worker's connection on `listener` and checks that it presents `token` (its
   * HELLO frame); the start timeout runs in `deadline.timer`.
   */
  async #connect(
    listener: Deno.Listener,
    spec: PythonWorkerSpec,
    token: string,
    deadline: { timer: ReturnType<typeof setTimeout> | undefined },
  ): Promise<void> {
    const accepted = await Promise.race([
      listener.accept(),
      // A worker that connected, wrote its IMPORT_ERROR and exited is in the listener's
      // backlog: the exit may be seen first, so accept gets a moment before it counts.
      this.exited.then(async (s) => {
        await new Promise((r) => Deno.unrefTimer(setTimeout(r, EXIT_BEFORE_ACCEPT_MS)));
        throw new WorkerGone(`the Python worker exited before connecting (code ${s.code})`);
      }),
      new Promise<never>((_, reject) => {
        deadline.timer = setTimeout(
          () => reject(new WorkerGone(`the Python worker did not connect within ${spec.startTimeoutMs} ms`)),
          spec.startTimeoutMs,
        );
      }),
    ]);
    this.#conn = accepted as Deno.UnixConn;
    this.#readLoop();
    const hello = await this.nextFrame();
    const expected = new TextEncoder().encode(`${token} ${this.pid}`);
    if (
      hello.type !== FRAME.Hello || hello.payload.length !== expected.length ||
      !timingSafeEqual(hello.payload, expected)
    ) {
      throw new WorkerGone("the process on the worker socket did not present the worker's token");
    }
  }

  /**
   * Waits for the worker's READY (its app imported and, for ASGI, its lifespan started); an
   * IMPORT_ERROR or STARTUP_FAILED becomes the error that names the app.
   */
  async #ready(spec: PythonWorkerSpec, deadline: { timer: ReturnType<typeof setTimeout> | undefined }) {
    const lifespanMs = spec.lifespanTimeoutMs ?? 0;
    const readyMs = spec.startTimeoutMs + lifespanMs;
    const ready = await Promise.race([
      this.nextFrame(),
      new Promise<never>((_, reject) => {
        clearTimeout(deadline.timer);
        deadline.timer = setTimeout(
          () =>
            reject(
              new WorkerGone(
                spec.kind === "ASGI" && lifespanMs > 0
                  ? `the ASGI app did not load and complete its lifespan startup within ${
                    readyMs / 1000
                  } s ` +
                    `(raise --asgi-startup-timeout if its startup needs longer)`
                  : `the ${spec.kind ?? "WSGI"} app did not load within ${readyMs / 1000} s`,
              ),
            ),
          readyMs,
        );
      }),
    ]);
    if (ready.type === FRAME.ImportError) {
      throw new WsgiImportError(spec.app, new TextDecoder().decode(ready.payload), spec.kind);
    }
    if (ready.type === FRAME.StartupFailed) {
      throw new AsgiStartupError(spec.app, new TextDecoder().decode(ready.payload));
    }
    if (ready.type !== FRAME.Ready) {
      throw new WorkerGone(`unexpected frame ${ready.type} from a new worker`);
    }
  }

  /** Whether the worker is gone (exited or its socket broke). */
  get gone(): boolean {
    return this.#gone !== undefined;
  }

  /**
   * Sends bytes to the worker. Writes are serialised and deferred by a few microtask turns, so the
   * requests of every connection that became readable together leave in one write (the worker
   * serves them from one read and answers them in one write); bytes sent while a write is in
   * flight leave together in the next.
   */
  send(bytes: Uint8Array): Promise<void> {
    if (this.#gone) return Promise.reject(this.#gone);
    this.#reserve(bytes.length).set(bytes, this.#outLength - bytes.length);
    return this.#flushSoon();
  }

  /**
   * Queues a REQUEST frame (as `requestFrame` in frames.ts builds it), written straight into the outgoing
   * bytes: no frame of its own is built and copied again. A failure shows up as the worker gone.
   */
  queueRequest(stream: number, credit: number, marshalled: Uint8Array, body: Uint8Array | undefined): void {
    if (this.#gone) return;
    const bodyBytes = body?.length ?? 0;
    const size = marshalled.length;
    const total = FRAME_HEADER_BYTES + 8 + size + bodyBytes;
    const out = this.#reserve(total);
    let at = this.#outLength - total;
    out[at] = FRAME.Request;
    putU32(out, at + 1, stream);
    putU32(out, at + 5, 8 + size + bodyBytes);
    putU32(out, at + 9, credit);
    putU32(out, at + 13, size);
    at += FRAME_HEADER_BYTES + 8;
    out.set(marshalled, at);
    if (body !== undefined) out.set(body, at + size);
    this.#flushSoon();
  }

  /** The bytes waiting for the next write, and the spare buffer the write in flight will free. */
  #out = new Uint8Array(16 * 1024);
  #outLength = 0;
  #spare = new Uint8Array(16 * 1024);
  #writing: Promise<void> | undefined;

  /** Room for `n` more outgoing bytes at the end of {@linkcode PythonWorker.#out}, counted in. */
  #reserve(n: number): Uint8Array {
    const need = this.#outLength + n;
    if (need > this.#out.length) {
      const grown = new Uint8Array(Math.max(need, this.#out.length * 2));
      grown.set(this.#out.subarray(0, this.#outLength));
      this.#out = grown;
    }
    this.#outLength = need;
    return this.#out;
  }

  /** The write in flight, begun if none is (a failure shows up as the worker gone as well). */
  #flushSoon(): Promise<void> {
    if (this.#writing !== undefined) return this.#writing;
    const writing = this.#writing = this.#writeOut();
    writing.catch(noop); // once per write, not once per frame queued
    return writing;
  }

  /** Writes what is queued, in as few writes as it takes, until nothing is left. */
  async #writeOut(): Promise<void> {
    const conn = this.#conn!;
    try {
      // Let the other connections' handlers of this turn add their frames first.
      for (let i = 0; i < BATCH_TURNS; i++) await undefined;
      while (this.#outLength > 0) {
        // Frames queued while this write is in flight go into the other buffer.
        const bytes = this.#out.subarray(0, this.#outLength);
        this.#out = this.#spare;
        this.#outLength = 0;
        let off = 0;
        while (off < bytes.length) off += await conn.write(off === 0 ? bytes : bytes.subarray(off));
        // A buffer grown for a large body is not kept.
        this.#spare = bytes.buffer.byteLength <= 256 * 1024
          ? new Uint8Array(bytes.buffer)
          : new Uint8Array(16 * 1024);
      }
    } catch (e) {
      this.#outLength = 0;
      this.#fail(`writing to the worker failed: ${e instanceof Error ? e.message : e}`);
      throw this.#gone!;
    } finally {
      this.#writing = undefined;
    }
  }

  /** Sends bytes without waiting: a failure shows up as the worker gone (its streams' frames reject). */
  queue(bytes: Uint8Array): void {
    if (this.#gone) return;
    this.#reserve(bytes.length).set(bytes, this.#outLength - bytes.length);
    this.#flushSoon();
  }

  /** Sends a frame without waiting (credit, cancel): a failure shows up as the worker gone. */
  post(type: number, stream: number, payload?: Uint8Array): void {
    this.queue(encodeFrame(type, stream, payload));
  }

  /** The next frame of the worker's own stream (0: the handshake); rejects when it is gone. */
  nextFrame(): Promise<Frame> {
    const f = this.#frames.shift();
    if (f !== undefined) return Promise.resolve(f);
    if (this.#gone) return Promise.reject(this.#gone);
    return new Promise((resolve, reject) => this.#waiter = { resolve, reject });
  }

  /**
   * Opens a request's stream before its REQUEST frame is sent. The worker serves requests in the
   * order they were sent; `onStart` runs when this one is at the head of that order (at once when
   * nothing is ahead of it), which is when its clock starts. A concurrent worker begins each
   * stream at once.
   */
  open(sid: number, requestId: string, onStart: () => void): void {
    if (this.concurrent) {
      this.#streams.set(sid, { frames: [], waiter: undefined, requestId, onStart, phase: "running" });
      onStart();
      return;
    }
    this.#streams.set(sid, { frames: [], waiter: undefined, requestId, onStart, phase: "queued" });
    this.#advance();
  }

  /** Whether a frame of stream `sid` is waiting to be taken. */
  hasFrame(sid: number): boolean {
    return (this.#streams.get(sid)?.frames.length ?? 0) > 0;
  }

  /**
   * The frames of stream `sid` that have arrived and wait to be taken, in order (a view: take them
   * with {@linkcode PythonWorker.takeFrames}).
   */
  queued(sid: number): readonly Frame[] {
    return this.#streams.get(sid)?.frames ?? NO_FRAMES;
  }

  /** Drops the first `n` waiting frames of stream `sid` (the gateway handled them from {@linkcode PythonWorker.queued}). */
  takeFrames(sid: number, n: number): void {
    this.#streams.get(sid)?.frames.splice(0, n);
  }

  /** Hands stream `sid` a frame of ferry's own (a {@linkcode FRAME}.LocalTimeout), as if the worker sent it. */
  interrupt(sid: number, type: number): void {
    this.#route({ type, stream: sid, payload: new Uint8Array(0) });
  }

  /** The next frame of stream `sid`; rejects with {@linkcode WorkerGone} when the worker is gone. */
  streamFrame(sid: number): Promise<Frame> {
    const st = this.#streams.get(sid);
    if (st === undefined) return Promise.reject(new Error(`stream ${sid} is not open`));
    const f = st.frames.shift();
    if (f !== undefined) return Promise.resolve(f);
    if (this.#gone) return Promise.reject(this.#gone);
    return new Promise((resolve, reject) => st.waiter = { resolve, reject });
  }

  /**
   * Whether frames of stream `sid` have arrived and wait to be taken: frames that came in one read
   * are all queued before the first is handed out, so a gateway can write them and flush once.
   */
  hasFrames(sid: number): boolean {
    return (this.#streams.get(sid)?.frames.length ?? 0) > 0;
  }

  /** Whether the worker began serving stream `sid` (a request it never began may go elsewhere). */
  started(sid: number): boolean {
    const phase = this.#streams.get(sid)?.phase;
    return phase !== undefined && phase !== "queued";
  }

  /** Forgets stream `sid` (its exchange is over). */
  close(sid: number): void {
    const st = this.#streams.get(sid);
    if (st === undefined) return;
    this.#streams.delete(sid);
    // A Map that outlived a young collection keeps its replaced tables' entries: the state a
    // replaced table may hold points at nothing of the request's (see deadlines.ts).
    st.waiter = undefined;
    st.onStart = noop;
    if (st.phase === "running" && !this.concurrent) this.#advance();
  }

  /** Requests sent to the worker and not yet closed. */
  get inflight(): number {
    return this.#streams.size;
  }

  /** Starts the first queued stream when none is running. */
  #advance(): void {
    let next: StreamState | undefined;
    for (const st of this.#streams.values()) {
      if (st.phase === "running") return;
      if (st.phase === "queued" && next === undefined) next = st;
    }
    // With nothing next, the last request keeps the tag: what it printed may reach ferry's end of
    // the pipe after its END frame came through the socket.
    if (next === undefined) return;
    next.phase = "running";
    this.requestId = next.requestId;
    next.onStart();
  }

  /** Sends a signal to the process (ignored when it is gone already). */
  kill(signal: Deno.Signal): void {
    try {
      this.#child.kill(signal);
    } catch {
      // exited
    }
  }

  /** Asks the worker to exit (SIGTERM), then kills it after `graceMs`; resolves when it is gone. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    this.#fail("the worker was stopped");
    this.kill("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.exited,
      new Promise<void>((r) => timer = setTimeout(() => (this.kill("SIGKILL"), r()), graceMs)),
    ]);
    clearTimeout(timer);
    await this.exited;
    await this.#pumps;
  }

  /**
   * Resident memory of the process in bytes, as the worker last reported it in an END frame (it
   * does when `--wsgi-max-rss` is set: ferry cannot read another process's /proc under the start
   * task's permissions); 0 before any report.
   */
  rss(): number {
    return this.#rssBytes;
  }

  #rssBytes = 0;

  /** Resolves when the worker's output has been logged to its end. */
  get drained(): Promise<void> {
    return this.#pumps;
  }

  #fail(message: string): void {
    if (this.#gone) return;
    this.#gone = new WorkerGone(message);
    // ferry's end of the socket goes with the worker, whatever was in flight on it.
    this.#closeConn();
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.reject(this.#gone);
    for (const st of this.#streams.values()) {
      const sw = st.waiter;
      st.waiter = undefined;
      sw?.reject(this.#gone);
    }
  }

  #closeConn(): void {
    try {
      this.#conn?.close();
    } catch {
      // closed already
    }
  }

  /** Routes a frame to its stream; the end of the running stream starts the next one. */
  #route(f: Frame): void {
    if (f.stream === 0) {
      if (f.type === FRAME.Log) return this.#appError(f.payload);
      const w = this.#waiter;
      if (w !== undefined) {
        this.#waiter = undefined;
        w.resolve(f);
      } else this.#frames.push(f);
      return;
    }
    if (f.type === FRAME.End && f.payload.length === 4) {
      this.#rssBytes = new DataView(f.payload.buffer, f.payload.byteOffset, 4).getUint32(0) * 1024;
    }
    const st = this.#streams.get(f.stream);
    if (st === undefined) return; // a stream already closed (its client went away)
    const sw = st.waiter;
    if (sw !== undefined) {
      st.waiter = undefined;
      sw.resolve(f);
    } else st.frames.push(f);
    if (
      (f.type === FRAME.End || f.type === FRAME.Error || f.type === FRAME.Response) &&
      st.phase === "running" &&
      !this.concurrent
    ) {
      st.phase = "done"; // the worker has moved on to the next request already
      this.#advance();
    }
  }

  /** An error the app raised after its response was complete: one record, with the request id. */
  #appError(payload: Uint8Array): void {
    const nul = payload.indexOf(0);
    const decoder = new TextDecoder();
    this.#log.error("python app raised", {
      id: nul < 0 ? "-" : decoder.decode(payload.subarray(0, nul)),
      pid: this.pid,
      traceback: decoder.decode(payload.subarray(nul + 1)),
    });
  }

  /** Whether the read loop runs (the exit is then reported after the last frame). */
  #reading = false;
  #exitedWhy: string | undefined;

  async #readLoop(): Promise<void> {
    const conn = this.#conn!;
    this.#reading = true;
    try {
      for (;;) {
        const n = await conn.read(this.#reader.space());
        if (n === null) break;
        this.#reader.added(n);
        for (let f = this.#reader.next(); f !== undefined; f = this.#reader.next()) this.#route(f);
      }
      this.#reading = false;
      this.#fail(this.#exitedWhy ?? "the worker closed its socket");
    } catch (e) {
      this.#reading = false;
      this.#fail(`the worker's socket failed: ${e instanceof Error ? e.message : e}`);
      // A worker being stopped gets its graceful timeout (ASGI lifespan shutdown runs then).
      if (!this.#stopping) this.kill("SIGKILL");
    }
  }

  async #lines(stream: ReadableStream<Uint8Array>, name: string): Promise<void> {
    const lines = new OutputLines((l) => {
      const fields: Record<string, unknown> = { pid: this.pid, id: this.requestId ?? "-", stream: name };
      fields.line = l.text;
      if (l.continued) fields.continued = true;
      this.#log.log(l.level, "python", fields);
    });
    for await (const chunk of stream) lines.push(chunk);
    lines.end();
  }
}
