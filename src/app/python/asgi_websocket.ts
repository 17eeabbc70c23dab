/**
 * ASGI WebSocket scopes on ferry's own RFC 6455 connections: the handshake is checked by ferry,
 * the app sees `websocket.connect` and answers `websocket.accept` (a subprotocol the client
 * offered, extra headers) — then ferry sends the 101 and runs the connection with its own
 * session (permessage-deflate, message limits, pings, metrics) — or `websocket.close` before
 * accepting, which is a 403. Messages flow both ways as `websocket.receive` / `websocket.send`
 * (text or bytes); the client's close reaches the app as `websocket.disconnect` with its code, and
 * the app's `websocket.close` closes with its code and reason. The app's sends run under the same
 * credit window as HTTP bodies, so a client that does not read makes them wait; the other way,
 * past {@linkcode WS_QUEUE_MESSAGES} messages (or {@linkcode WS_QUEUE_BYTES}) the app has not
 * taken, ferry stops reading the client's socket.
 *
 * @module
 */

import type { ServerRequest } from "../../http/request.ts";
import type { ResponseWriter } from "../../http/writer.ts";
import { STATUS } from "../../http/status.ts";
import { TEXT_PLAIN } from "../../http/error_page.ts";
import { acceptKey, checkHandshake, offeredProtocols } from "../../ws/handshake.ts";
import { chooseDeflate, type DeflateParams } from "../../ws/deflate.ts";
import { FerryWebSocket } from "../../ws/socket.ts";
import { WsSession } from "../../ws/session.ts";
import { CLOSE } from "../../ws/protocol.ts";
import { creditPayload, decodeHead, FRAME, requestFrame } from "./frames.ts";
import type { PythonPool } from "./pool.ts";
import type { PythonWorker } from "./python_worker.ts";
import {
  acquireWorker,
  CREDIT_WINDOW_BYTES,
  GatewayStream,
  type HeadMemo,
  type PythonHandlerOptions,
  toClient,
} from "./gateway_stream.ts";
import { writeScope } from "./asgi_scope.ts";
import type { MarshalWriter } from "./marshal.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const noop = () => {};

/**
 * Messages from the client forwarded to the worker and not yet taken by the app's `receive()`:
 * past this many (or {@linkcode WS_QUEUE_BYTES}) ferry stops reading the socket, so TCP slows
 * the client instead of the worker's memory growing.
 */
export const WS_QUEUE_MESSAGES = 64;
/** Bytes of client messages waiting in the worker before ferry stops reading the socket. */
export const WS_QUEUE_BYTES = 1024 * 1024;

/** The client's messages the app has yet to take, and the reading held back until it does. */
class ReceiveWindow {
  messages = 0;
  bytes = 0;
  #open = false;
  #wake: (() => void) | undefined;

  /** A message went to the worker. */
  sent(n: number): void {
    this.messages++;
    this.bytes += n;
  }

  /** The app took a message of `n` bytes. */
  taken(n: number): void {
    this.messages--;
    this.bytes -= n;
    if (!this.#full()) this.#release();
  }

  /** No more holding back (the exchange is over). */
  open(): void {
    this.#open = true;
    this.#release();
  }

  /** The session's read gate. */
  gate = (): Promise<void> | undefined => {
    if (this.#open || !this.#full()) return undefined;
    return new Promise<void>((r) => this.#wake = r);
  };

  #full(): boolean {
    return this.messages >= WS_QUEUE_MESSAGES || this.bytes >= WS_QUEUE_BYTES;
  }

  #release(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }
}

/** The payload of a WS_CLOSED frame: the close code (u16). */
function closedPayload(code: number): Uint8Array {
  return new Uint8Array([code >> 8, code & 0xff]);
}

const FORBIDDEN = "Forbidden: the app refused the WebSocket\n";

/**
 * One WebSocket request through the ASGI app: refuses a bad handshake (400/426, thrown as a
 * Refusal), answers 403 when the app closes before accepting and 500 when it raises first; once
 * accepted, ferry's own session runs the socket and messages flow as frames both ways.
 *
 * @example
 * ```ts ignore
 * await AsgiWebSocketExchange.serve(pool, req, res, { log, stats }, new MarshalWriter(), new HeadMemo());
 * ```
 */
export class AsgiWebSocketExchange extends GatewayStream {
  #key: string;
  #offered: string[];
  #unwatch: () => void = noop;
  #session: WsSession | undefined;
  #running: Promise<void> | undefined;
  #socketClosed = false;
  #inbox = new ReceiveWindow();

  /** Checks the handshake (throws its Refusal), takes a worker and runs the exchange. */
  static async serve(
    pool: PythonPool,
    req: ServerRequest,
    res: ResponseWriter,
    options: PythonHandlerOptions,
    scope: MarshalWriter,
    heads: HeadMemo,
  ): Promise<void> {
    const key = checkHandshake(req);
    const offered = offeredProtocols(req);
    const worker = await acquireWorker(pool, req, res, options);
    if (worker === undefined) return;
    await new AsgiWebSocketExchange(pool, worker, req, res, options, heads, key, offered).run(scope);
  }

  /** An exchange for the handshake `req` (its accept `key`, the subprotocols `offered`) on `worker`. */
  constructor(
    pool: PythonPool,
    worker: PythonWorker,
    req: ServerRequest,
    res: ResponseWriter,
    options: PythonHandlerOptions,
    heads: HeadMemo,
    key: string,
    offered: string[],
  ) {
    super(pool, worker, req, res, options, heads);
    this.#key = key;
    this.#offered = offered;
  }

  /** Runs the exchange until the app's task ends (and the socket, once it is a session's, closes). */
  async run(scope: MarshalWriter): Promise<void> {
    const { pool, worker, sid, req } = this;
    worker.open(sid, req.id, noop);
    const timeoutMs = pool.options.timeout * 1000;
    // The clock runs until the app accepts or refuses; an open socket may live long.
    if (timeoutMs > 0) this.#unwatch = pool.watch(timeoutMs, () => worker.interrupt(sid, FRAME.LocalTimeout));
    try {
      writeScope(scope, req, "websocket", false, this.#offered);
      await worker.send(requestFrame(sid, CREDIT_WINDOW_BYTES, scope.bytes(), undefined));
      for (;;) {
        const f = await worker.streamFrame(sid);
        if (await this.#frame(f.type, f.payload)) return;
      }
    } catch (e) {
      this.log.error("python worker failed during a WebSocket", {
        id: req.id,
        pid: worker.pid,
        error: String(e),
      });
      pool.discard(worker, "crash", false);
      if (this.#session !== undefined) this.#session.startClose(CLOSE.internalError, "");
      else if (!this.res.headersSent) {
        this.pool.counters.count("wsgiBadGateway");
        await toClient(
          this.res,
          this.res.send(STATUS.BadGateway, [TEXT_PLAIN], "Bad Gateway: the app's worker failed\n"),
        );
      }
    } finally {
      this.#inbox.open();
      this.#unwatch();
      this.release();
      // The connection is the session's until it closes.
      await this.#running;
    }
  }

  /** Handles a frame of the stream; true when the exchange is over. */
  async #frame(type: number, payload: Uint8Array): Promise<boolean> {
    switch (type) {
      case FRAME.WsAccept:
        if (this.#session === undefined) await this.#accept(payload);
        return false;
      case FRAME.WsSend:
        this.#send(payload);
        return false;
      case FRAME.WsClose:
        await this.#close(payload);
        return false;
      case FRAME.End:
        this.workerOk = true;
        if (this.#session === undefined) await this.#refuse(STATUS.Forbidden, FORBIDDEN);
        else this.#session.startClose(CLOSE.normal, "");
        return true;
      case FRAME.Error:
        this.workerOk = true;
        this.stats.handlerErrors++;
        this.log.error("python app raised", {
          id: this.req.id,
          pid: this.worker.pid,
          traceback: decoder.decode(payload.subarray(1)),
        });
        if (this.#session === undefined) {
          await this.#refuse(STATUS.InternalServerError, "Internal Server Error\n");
        } else this.#session.startClose(CLOSE.internalError, "");
        return true;
      case FRAME.Log:
        this.appLine("python app", payload);
        return false;
      case FRAME.BodyAck:
        // The app took a message: reading may go on.
        this.#inbox.taken(new DataView(payload.buffer, payload.byteOffset).getUint32(0));
        return false;
      case FRAME.Credit:
      case FRAME.Trailers:
      case FRAME.Head:
      case FRAME.Data:
        return false;
      case FRAME.LocalTimeout:
        this.log.error("python WebSocket request timed out before accepting; its task is cancelled", {
          id: this.req.id,
          pid: this.worker.pid,
        });
        this.worker.post(FRAME.Cancel, this.sid, new Uint8Array([1]));
        await this.timedOut();
        return false;
      default:
        throw new Error(`unexpected frame type ${type} from the Python worker`);
    }
  }

  /** An answer instead of the 101, when none went out yet. */
  async #refuse(status: number, text: string): Promise<void> {
    const res = this.res;
    if (!res.headersSent) await toClient(res, res.send(status, [TEXT_PLAIN], text));
  }

  /** The app's websocket.accept: the 101, then ferry's session runs the socket. */
  async #accept(payload: Uint8Array): Promise<void> {
    const { req, res, worker, sid } = this;
    this.#unwatch();
    this.#unwatch = noop;
    const { status: protocol, headers } = decodeHead(payload);
    if (protocol !== "" && !this.#offered.includes(protocol)) {
      this.log.error("ASGI app accepted a subprotocol the client did not offer; refused", {
        id: req.id,
        subprotocol: protocol,
      });
      await toClient(res, res.send(STATUS.InternalServerError, [TEXT_PLAIN], "Internal Server Error\n"));
      worker.post(FRAME.WsClosed, sid, closedPayload(CLOSE.abnormal));
      this.#socketClosed = true;
      return;
    }
    const head: Array<[string, string]> = [["Sec-WebSocket-Accept", acceptKey(this.#key)]];
    if (protocol !== "") head.push(["Sec-WebSocket-Protocol", protocol]);
    for (const [name, value] of headers) {
      const n = name.toLowerCase();
      if (n.startsWith("sec-websocket-") || n === "connection" || n === "upgrade") continue;
      head.push([name, value]);
    }
    const offers = req.headers.getAll("sec-websocket-extensions");
    const offer = offers.length > 0 ? chooseDeflate(offers) : undefined;
    let deflate: DeflateParams | undefined;
    let tunnel;
    try {
      tunnel = await res.capability("switch")!("websocket", head, (t) => {
        if (!t.options.wsDeflate || offer === undefined) return [];
        deflate = offer;
        return [["Sec-WebSocket-Extensions", offer.response]];
      });
    } catch {
      // The client left before its 101: its socket is closed (1006), the worker lives on.
      res.abort();
      this.#socketClosed = true;
      worker.post(FRAME.WsClosed, sid, closedPayload(CLOSE.abnormal));
      return;
    }
    const o = tunnel.options;
    this.#session = new WsSession(tunnel, this.#socket(protocol), {
      maxMessageBytes: o.wsMaxMessageBytes,
      pingInterval: o.wsPingInterval,
      deflate,
      readGate: this.#inbox.gate,
    });
    this.#running = this.#session.run();
  }

  /** The socket the session drives: its messages and its close go to the app as frames. */
  #socket(protocol: string): FerryWebSocket {
    const { req, worker, sid } = this;
    const url = `${req.scheme === "https" ? "wss" : "ws"}://${req.host || "localhost"}${req.path}`;
    const socket = new FerryWebSocket(url, protocol);
    socket.binaryType = "arraybuffer";
    socket.onmessage = (e: MessageEvent) => {
      const text = typeof e.data === "string";
      const bytes = text ? encoder.encode(e.data) : new Uint8Array(e.data as ArrayBuffer);
      const payload = new Uint8Array(bytes.length + 1);
      payload[0] = text ? 1 : 0;
      payload.set(bytes, 1);
      this.#inbox.sent(bytes.length);
      worker.post(FRAME.WsMessage, sid, payload);
    };
    socket.onclose = (e: CloseEvent) => {
      this.#socketClosed = true;
      worker.post(FRAME.WsClosed, sid, closedPayload(e.code || CLOSE.noStatus));
    };
    return socket;
  }

  /** The app's websocket.send: credit goes back once the client has the message. */
  #send(payload: Uint8Array): void {
    const { worker, sid } = this;
    const n = payload.length - 1;
    const session = this.#session;
    if (session === undefined || this.#socketClosed) {
      worker.post(FRAME.Credit, sid, creditPayload(n));
      return;
    }
    session.sendAndWait(payload[0] === 1, payload.subarray(1)).then(() => {
      if (!worker.gone) worker.post(FRAME.Credit, sid, creditPayload(n));
    });
  }

  /** The app's websocket.close: before accepting, the handshake is refused (ASGI: 403). */
  async #close(payload: Uint8Array): Promise<void> {
    const code = payload.length >= 2 ? (payload[0] << 8) | payload[1] : CLOSE.normal;
    if (this.#session !== undefined) {
      this.#session.startClose(code, decoder.decode(payload.subarray(2)));
      return;
    }
    await this.#refuse(STATUS.Forbidden, FORBIDDEN);
    this.#socketClosed = true;
    this.worker.post(FRAME.WsClosed, this.sid, closedPayload(code));
  }
}
