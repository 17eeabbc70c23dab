/**
 * The server side of a WebSocket as an app sees it: the standard `WebSocket` interface
 * (`onopen` / `onmessage` / `onclose` / `onerror` and `addEventListener`, `send`, `close`,
 * `readyState`, `bufferedAmount`, `binaryType`, `protocol`, `extensions`), the shape
 * `Deno.upgradeWebSocket` returns. A listener that throws (or rejects) is logged; it does not
 * take the server down, as an uncaught error in an `EventTarget` listener would.
 *
 * @module
 */

/** What the socket asks of the session that carries it. */
export interface WsTransport {
  /** Queues a message to be sent. */
  sendMessage(text: boolean, payload: Uint8Array): void;
  /** Bytes queued and not yet written to the socket (no promise per message is kept for it). */
  readonly queued: number;
  /** Starts the closing handshake with `code` (none: an empty close frame) and `reason`. */
  startClose(code: number | undefined, reason: string): void;
  /** Reports a listener's failure. */
  listenerFailed(type: string, error: unknown): void;
}

/** What the session tells the socket (not part of the public interface). */
export interface SocketControl {
  /** The handshake is done: the socket is open. */
  open(transport: WsTransport, extensions: string): void;
  /** A whole message arrived. */
  message(data: string | Uint8Array): void;
  /** The peer started the closing handshake. */
  closing(): void;
  /** The connection failed (an error event follows, then close). */
  error(message: string): void;
  /** The connection is closed. */
  closed(code: number, reason: string, wasClean: boolean): void;
}

let controlOf: (socket: FerryWebSocket) => SocketControl;

/** The session's handle on `socket`. */
export function socketControl(socket: FerryWebSocket): SocketControl {
  return controlOf(socket);
}

const encoder = new TextEncoder();

type HandlerType = "open" | "message" | "close" | "error";

/**
 * A server-side WebSocket made by `upgradeWebSocket`; it opens once the 101 response has gone
 * out.
 *
 * @example
 * ```ts ignore
 * const { socket, response } = upgradeWebSocket(request);
 * socket.onmessage = (e) => socket.send(`echo: ${e.data}`);
 * return response;
 * ```
 */
export class FerryWebSocket extends EventTarget {
  /** readyState: the handshake is not done. */
  static readonly CONNECTING = 0;
  /** readyState: messages flow. */
  static readonly OPEN = 1;
  /** readyState: the closing handshake is under way. */
  static readonly CLOSING = 2;
  /** readyState: closed. */
  static readonly CLOSED = 3;
  /** readyState: the handshake is not done. */
  readonly CONNECTING = 0;
  /** readyState: messages flow. */
  readonly OPEN = 1;
  /** readyState: the closing handshake is under way. */
  readonly CLOSING = 2;
  /** readyState: closed. */
  readonly CLOSED = 3;
  /** The URL of the request that opened the socket (`ws:` or `wss:`). */
  readonly url: string;
  /** How binary messages are delivered: as a `Blob` (the standard's default) or an `ArrayBuffer`. */
  binaryType: BinaryType = "blob";

  #state = 0;
  #protocol: string;
  #extensions = "";
  #buffered = 0;
  #transport: WsTransport | undefined;
  #closeAfterOpen: { code: number | undefined; reason: string } | undefined;
  #handlers = new Map<HandlerType, { handler: unknown; wrapper: EventListener }>();
  #wrappers = new WeakMap<object, EventListener>();
  /** Sends waiting behind a Blob being read, so messages keep their order. */
  #chain: Promise<void> | undefined;

  static {
    controlOf = (s) => ({
      open: (transport, extensions) => s.#open(transport, extensions),
      message: (data) => s.#message(data),
      closing: () => {
        if (s.#state === 1) s.#state = 2;
      },
      error: (message) => s.#fire(new ErrorEvent("error", { message })),
      closed: (code, reason, wasClean) => {
        if (s.#state === 3) return;
        s.#state = 3;
        s.#fire(new CloseEvent("close", { code, reason, wasClean }));
      },
    });
  }

  /** A socket for the request at `url` that agreed on subprotocol `protocol` ("" for none). */
  constructor(url: string, protocol: string) {
    super();
    this.url = url;
    this.#protocol = protocol;
  }

  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  get readyState(): number {
    return this.#state;
  }

  /** The subprotocol agreed in the handshake ("" for none). */
  get protocol(): string {
    return this.#protocol;
  }

  /** The extensions agreed in the handshake (`permessage-deflate; …` or ""). */
  get extensions(): string {
    return this.#extensions;
  }

  /** Bytes of messages passed to `send` that have not been written to the socket yet (frame headers included). */
  get bufferedAmount(): number {
    return this.#buffered + (this.#state === 1 || this.#state === 2 ? this.#transport!.queued : 0);
  }

  /**
   * Sends a message: a string as text, binary data (an `ArrayBuffer`, a view, a `Blob`) as
   * binary. Throws `InvalidStateError` before the socket is open; does nothing once closing.
   */
  send(data: string | ArrayBufferLike | ArrayBufferView | Blob): void {
    if (this.#state === 0) throw new DOMException("the WebSocket is not open yet", "InvalidStateError");
    if (this.#state !== 1) return;
    let text = false;
    let bytes: Uint8Array | undefined;
    if (typeof data === "string") {
      text = true;
      bytes = encoder.encode(data);
    } else if (data instanceof Blob) {
      const blob = data;
      this.#buffered += blob.size;
      this.#after(async () => {
        const ab = await blob.arrayBuffer();
        this.#buffered -= blob.size;
        this.#queue(false, new Uint8Array(ab));
      });
      return;
    } else if (ArrayBuffer.isView(data)) {
      bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    } else if (data instanceof ArrayBuffer || data instanceof SharedArrayBuffer) {
      bytes = new Uint8Array(data).slice();
    } else {
      throw new TypeError("send takes a string, an ArrayBuffer, an ArrayBufferView or a Blob");
    }
    if (this.#chain !== undefined) {
      const b = bytes;
      this.#buffered += b.length;
      this.#after(() => {
        this.#buffered -= b.length;
        this.#queue(text, b);
      });
    } else this.#queue(text, bytes);
  }

  /**
   * Starts the closing handshake. `code` must be 1000 or 3000–4999, `reason` at most 123 bytes
   * of UTF-8 (RFC 6455 §5.5, §7.4).
   */
  close(code?: number, reason = ""): void {
    if (code !== undefined && code !== 1000 && !(code >= 3000 && code <= 4999)) {
      throw new DOMException(`close code must be 1000 or 3000-4999, not ${code}`, "InvalidAccessError");
    }
    if (encoder.encode(reason).length > 123) {
      throw new DOMException("close reason must be at most 123 bytes of UTF-8", "SyntaxError");
    }
    if (this.#state >= 2) return;
    if (this.#state === 0) {
      this.#closeAfterOpen = { code, reason };
      return;
    }
    this.#state = 2;
    const transport = this.#transport!;
    if (this.#chain !== undefined) this.#after(() => transport.startClose(code, reason));
    else transport.startClose(code, reason);
  }

  /** The `open` event handler. */
  get onopen(): ((ev: Event) => unknown) | null {
    return this.#handlerOf("open") as ((ev: Event) => unknown) | null;
  }
  set onopen(fn: ((ev: Event) => unknown) | null) {
    this.#setHandler("open", fn);
  }
  /** The `message` event handler. */
  get onmessage(): ((ev: MessageEvent) => unknown) | null {
    return this.#handlerOf("message") as ((ev: MessageEvent) => unknown) | null;
  }
  set onmessage(fn: ((ev: MessageEvent) => unknown) | null) {
    this.#setHandler("message", fn);
  }
  /** The `close` event handler. */
  get onclose(): ((ev: CloseEvent) => unknown) | null {
    return this.#handlerOf("close") as ((ev: CloseEvent) => unknown) | null;
  }
  set onclose(fn: ((ev: CloseEvent) => unknown) | null) {
    this.#setHandler("close", fn);
  }
  /** The `error` event handler. */
  get onerror(): ((ev: Event | ErrorEvent) => unknown) | null {
    return this.#handlerOf("error") as ((ev: Event) => unknown) | null;
  }
  set onerror(fn: ((ev: Event | ErrorEvent) => unknown) | null) {
    this.#setHandler("error", fn);
  }

  /** Adds a listener; one that throws is logged instead of ending the process. */
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    if (listener === null) return;
    let wrapper = this.#wrappers.get(listener);
    if (wrapper === undefined) {
      wrapper = this.#guard(type, listener);
      this.#wrappers.set(listener, wrapper);
    }
    super.addEventListener(type, wrapper, options);
  }

  /** Removes a listener added with {@linkcode FerryWebSocket.addEventListener}. */
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void {
    if (listener === null) return;
    super.removeEventListener(type, this.#wrappers.get(listener) ?? listener, options);
  }

  #guard(type: string, listener: EventListenerOrEventListenerObject): EventListener {
    return (ev: Event) => {
      try {
        const r: unknown = typeof listener === "function"
          ? listener.call(this, ev)
          : listener.handleEvent(ev);
        if (r instanceof Promise) r.catch((e) => this.#failed(type, e));
      } catch (e) {
        this.#failed(type, e);
      }
    };
  }

  #failed(type: string, e: unknown): void {
    if (this.#transport !== undefined) this.#transport.listenerFailed(type, e);
    else console.error(`WebSocket ${type} listener failed:`, e);
  }

  #handlerOf(type: HandlerType): unknown {
    return this.#handlers.get(type)?.handler ?? null;
  }

  #setHandler(type: HandlerType, fn: unknown): void {
    const old = this.#handlers.get(type);
    if (old !== undefined) super.removeEventListener(type, old.wrapper);
    this.#handlers.delete(type);
    if (typeof fn !== "function") return;
    const wrapper = this.#guard(type, fn as EventListener);
    this.#handlers.set(type, { handler: fn, wrapper });
    super.addEventListener(type, wrapper);
  }

  #fire(ev: Event): void {
    this.dispatchEvent(ev);
  }

  /** Runs `step` after the sends already waiting, keeping their order. */
  #after(step: () => void | Promise<void>): void {
    const next = (this.#chain ?? Promise.resolve()).then(step).catch((e) => this.#failed("send", e));
    const mine = next.then(() => {
      if (this.#chain === mine) this.#chain = undefined;
    });
    this.#chain = mine;
  }

  #queue(text: boolean, bytes: Uint8Array): void {
    if (this.#state !== 1 && this.#state !== 2) return;
    this.#transport!.sendMessage(text, bytes);
  }

  #open(transport: WsTransport, extensions: string): void {
    this.#transport = transport;
    this.#extensions = extensions;
    this.#state = 1;
    this.#fire(new Event("open"));
    const pending = this.#closeAfterOpen;
    if (pending !== undefined && this.#state === 1) this.close(pending.code, pending.reason);
  }

  #message(data: string | Uint8Array): void {
    if (this.#state !== 1) return;
    let value: string | ArrayBuffer | Blob;
    if (typeof data === "string") value = data;
    else if (this.binaryType === "arraybuffer") {
      value = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength
        ? data.buffer as ArrayBuffer
        : data.slice().buffer;
    } else value = new Blob([data as Uint8Array<ArrayBuffer>]);
    this.#fire(new MessageEvent("message", { data: value }));
  }
}
