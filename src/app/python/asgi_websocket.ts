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
import {
  acquireWorker,
  CREDIT_WINDOW_BYTES,
  nextStreamId,
  type PythonHandlerOptions,
  toClient,
} from "./gateway.ts";
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

/**
 * Runs one WebSocket request through the ASGI app: refuses a bad handshake (400/426, thrown as
 * a Refusal), answers 403 when the app closes before accepting and 500 when it raises first.
 *
 * @example
 * ```ts ignore
 * await asgiWebSocket(pool, req, res, { log, stats });
 * ```
 */
export async function asgiWebSocket(
  pool: PythonPool,
  req: ServerRequest,
  res: ResponseWriter,
  options: PythonHandlerOptions,
  scope: MarshalWriter,
): Promise<void> {
  const { log, stats } = options;
  const key = checkHandshake(req);
  const offered = offeredProtocols(req);
  const worker = await acquireWorker(pool, req, res, options);
  if (worker === undefined) return;
  const sid = nextStreamId();
  worker.open(sid, req.id, noop);
  const timeoutMs = pool.options.timeout * 1000;
  // The clock runs until the app accepts or refuses; an open socket may live long.
  let unwatch = timeoutMs > 0 ? pool.watch(timeoutMs, () => worker.interrupt(sid, FRAME.LocalTimeout)) : noop;
  let workerOk = false;
  let session: WsSession | undefined;
  let running: Promise<void> | undefined;
  let socketClosed = false;
  const inbox = new ReceiveWindow();
  try {
    writeScope(scope, req, "websocket", false, offered);
    await worker.send(requestFrame(sid, CREDIT_WINDOW_BYTES, scope.bytes(), undefined));
    for (;;) {
      const f = await worker.streamFrame(sid);
      switch (f.type) {
        case FRAME.WsAccept: {
          if (session !== undefined) break;
          unwatch();
          unwatch = noop;
          const { status: protocol, headers } = decodeHead(f.payload);
          if (protocol !== "" && !offered.includes(protocol)) {
            log.error("ASGI app accepted a subprotocol the client did not offer; refused", {
              id: req.id,
              subprotocol: protocol,
            });
            await toClient(
              res,
              res.send(STATUS.InternalServerError, [TEXT_PLAIN], "Internal Server Error\n"),
            );
            worker.post(FRAME.WsClosed, sid, closedPayload(CLOSE.abnormal));
            socketClosed = true;
            break;
          }
          const head: Array<[string, string]> = [["Sec-WebSocket-Accept", acceptKey(key)]];
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
            socketClosed = true;
            worker.post(FRAME.WsClosed, sid, closedPayload(CLOSE.abnormal));
            break;
          }
          const url = `${req.scheme === "https" ? "wss" : "ws"}://${req.host || "localhost"}${req.path}`;
          const socket = new FerryWebSocket(url, protocol);
          socket.binaryType = "arraybuffer";
          socket.onmessage = (e: MessageEvent) => {
            const text = typeof e.data === "string";
            const bytes = text ? encoder.encode(e.data) : new Uint8Array(e.data as ArrayBuffer);
            const payload = new Uint8Array(bytes.length + 1);
            payload[0] = text ? 1 : 0;
            payload.set(bytes, 1);
            inbox.sent(bytes.length);
            worker.post(FRAME.WsMessage, sid, payload);
          };
          socket.onclose = (e: CloseEvent) => {
            socketClosed = true;
            worker.post(FRAME.WsClosed, sid, closedPayload(e.code || CLOSE.noStatus));
          };
          const o = tunnel.options;
          session = new WsSession(tunnel, socket, {
            maxMessageBytes: o.wsMaxMessageBytes,
            pingInterval: o.wsPingInterval,
            deflate,
            readGate: inbox.gate,
          });
          running = session.run();
          break;
        }
        case FRAME.WsSend: {
          const n = f.payload.length - 1;
          if (session === undefined || socketClosed) {
            worker.post(FRAME.Credit, sid, creditPayload(n));
            break;
          }
          session.sendAndWait(f.payload[0] === 1, f.payload.subarray(1)).then(() => {
            if (!worker.gone) worker.post(FRAME.Credit, sid, creditPayload(n));
          });
          break;
        }
        case FRAME.WsClose: {
          const code = f.payload.length >= 2 ? (f.payload[0] << 8) | f.payload[1] : CLOSE.normal;
          if (session === undefined) {
            // Closed before accepting: the handshake is refused (ASGI: 403).
            if (!res.headersSent) {
              await toClient(
                res,
                res.send(STATUS.Forbidden, [TEXT_PLAIN], "Forbidden: the app refused the WebSocket\n"),
              );
            }
            socketClosed = true;
            worker.post(FRAME.WsClosed, sid, closedPayload(code));
          } else session.startClose(code, decoder.decode(f.payload.subarray(2)));
          break;
        }
        case FRAME.End:
          workerOk = true;
          if (session === undefined) {
            if (!res.headersSent) {
              await toClient(
                res,
                res.send(STATUS.Forbidden, [TEXT_PLAIN], "Forbidden: the app refused the WebSocket\n"),
              );
            }
          } else session.startClose(CLOSE.normal, "");
          return;
        case FRAME.Error:
          workerOk = true;
          stats.handlerErrors++;
          log.error("python app raised", {
            id: req.id,
            pid: worker.pid,
            traceback: decoder.decode(f.payload.subarray(1)),
          });
          if (session === undefined) {
            if (!res.headersSent) {
              await toClient(
                res,
                res.send(STATUS.InternalServerError, [TEXT_PLAIN], "Internal Server Error\n"),
              );
            }
          } else session.startClose(CLOSE.internalError, "");
          return;
        case FRAME.Log:
          log.error("python app", { id: req.id, pid: worker.pid, line: decoder.decode(f.payload) });
          break;
        case FRAME.BodyAck:
          // The app took a message: reading may go on.
          inbox.taken(new DataView(f.payload.buffer, f.payload.byteOffset).getUint32(0));
          break;
        case FRAME.Credit:
        case FRAME.Trailers:
        case FRAME.Head:
        case FRAME.Data:
          break;
        case FRAME.LocalTimeout:
          stats.wsgiGatewayTimeout++;
          log.error("python WebSocket request timed out before accepting; its task is cancelled", {
            id: req.id,
            pid: worker.pid,
          });
          worker.post(FRAME.Cancel, sid, new Uint8Array([1]));
          if (!res.headersSent) {
            await toClient(
              res,
              res.send(
                STATUS.GatewayTimeout,
                [TEXT_PLAIN],
                "Gateway Timeout: the app did not answer in time\n",
              ),
            );
          }
          break;
        default:
          throw new Error(`unexpected frame type ${f.type} from the Python worker`);
      }
    }
  } catch (e) {
    log.error("python worker failed during a WebSocket", { id: req.id, pid: worker.pid, error: String(e) });
    pool.discard(worker, "crash", false);
    if (session !== undefined) session.startClose(CLOSE.internalError, "");
    else if (!res.headersSent) {
      stats.wsgiBadGateway++;
      await res.send(STATUS.BadGateway, [TEXT_PLAIN], "Bad Gateway: the app's worker failed\n");
    }
  } finally {
    inbox.open();
    unwatch();
    worker.close(sid);
    if (workerOk) pool.release(worker);
    else pool.forget(worker);
    // The connection is the session's until it closes.
    await running;
  }
}
