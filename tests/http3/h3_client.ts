/**
 * A small HTTP/3 client for tests, on `Deno.connectQuic`: it opens its control stream with
 * SETTINGS, sends requests (any fields, any body, any raw bytes) and reads responses frame by
 * frame; it can also write raw bytes on new unidirectional streams and watch how the connection
 * closes. Field sections are decoded with ferry's QPACK decoder (the interop tests use ngtcp2 and
 * Chromium as independent clients).
 *
 * @module
 */

import { FrameReader } from "../../src/http3/frames.ts";
import { decodeFieldSection } from "../../src/http3/qpack.ts";
import { readVarint } from "../../src/http3/varint.ts";
import { cat, controlOpen, fr, hd } from "./h3_kit.ts";

/** A response as read. */
export interface H3Response {
  status: number;
  headers: Map<string, string>;
  body: Uint8Array;
  trailers: Map<string, string> | undefined;
  /** Interim (1xx) statuses before the response, in order. */
  interim: number[];
  /** Whether the stream ended cleanly (FIN) rather than being reset. */
  complete: boolean;
}

/** One client connection. */
export class H3Client implements AsyncDisposable {
  readonly quic: Deno.QuicConn;
  /** GOAWAY ids received on the server's control stream, in order. */
  readonly goaways: number[] = [];
  /** The frame types on the server's control stream, in order (SETTINGS first). */
  readonly controlFrames: number[] = [];
  #control: WritableStreamDefaultWriter<Uint8Array> | undefined;

  private constructor(quic: Deno.QuicConn) {
    this.quic = quic;
    this.#watch();
  }

  /** Reads the server's unidirectional streams: its control stream's frames are recorded. */
  async #watch(): Promise<void> {
    try {
      for await (const uni of this.quic.incomingUnidirectionalStreams) {
        (async () => {
          const frames = new FrameReader(1 << 16);
          let typed = false;
          for await (const chunk of uni) {
            let bytes = chunk;
            if (!typed) {
              if (bytes[0] !== 0x00) return; // not the control stream
              typed = true;
              bytes = bytes.subarray(1);
            }
            for (const f of frames.push(bytes)) {
              if (f.kind !== "frame") continue;
              this.controlFrames.push(f.type);
              if (f.type === 0x07) this.goaways.push(readVarint(f.payload, 0));
            }
          }
        })().catch(() => {});
      }
    } catch {
      // closed
    }
  }

  /** Connects to 127.0.0.1:`port` as `localhost`, trusting `caCert`; opens the control stream unless `bare`. */
  static async connect(port: number, caCert: string, bare = false): Promise<H3Client> {
    const quic = await Deno.connectQuic({
      hostname: "127.0.0.1",
      port,
      serverName: "localhost",
      alpnProtocols: ["h3"],
      caCerts: [caCert],
    });
    const c = new H3Client(quic);
    if (!bare) {
      const s = await quic.createUnidirectionalStream();
      c.#control = s.getWriter();
      await c.#control.write(controlOpen());
    }
    return c;
  }

  /** Writes `bytes` on a new unidirectional stream; ends it when `fin`. */
  async uni(bytes: Uint8Array, fin = false): Promise<WritableStreamDefaultWriter<Uint8Array>> {
    const w = (await this.quic.createUnidirectionalStream()).getWriter();
    await w.write(bytes);
    if (fin) await w.close();
    return w;
  }

  /** Sends `fields` (and `body`, as one DATA frame) on a new request stream; reads the response. */
  request(fields: Array<[string, string]>, body?: Uint8Array): Promise<H3Response> {
    return this.raw(body === undefined ? hd(fields) : cat(hd(fields), fr(0x00, body)));
  }

  /** Sends raw `bytes` as a request stream (then FIN unless `fin` is false); reads the response. */
  async raw(bytes: Uint8Array, fin = true): Promise<H3Response> {
    const bidi = await this.quic.createBidirectionalStream({ waitUntilAvailable: true });
    const w = bidi.writable.getWriter();
    await w.write(bytes);
    if (fin) await w.close();
    return await readResponse(bidi.readable);
  }

  /** Sends raw `bytes` as the start of a request stream and keeps it open; the response when it comes. */
  async open(
    bytes: Uint8Array,
  ): Promise<{ writer: WritableStreamDefaultWriter<Uint8Array>; response: Promise<H3Response> }> {
    const bidi = await this.quic.createBidirectionalStream({ waitUntilAvailable: true });
    const writer = bidi.writable.getWriter();
    await writer.write(bytes);
    return { writer, response: readResponse(bidi.readable) };
  }

  /** How the connection closed (resolves when it has). */
  get closed(): Promise<Deno.QuicCloseInfo> {
    return this.quic.closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    try {
      this.quic.close({ closeCode: 0x100, reason: "" });
    } catch {
      // closed
    }
    return Promise.resolve();
  }
}

/** Reads a response: HEADERS (1xx skipped), DATA, optional trailers, until FIN or reset. */
export async function readResponse(readable: ReadableStream<Uint8Array>): Promise<H3Response> {
  const frames = new FrameReader(1 << 20);
  const res: H3Response = {
    status: 0,
    headers: new Map(),
    body: new Uint8Array(0),
    trailers: undefined,
    interim: [],
    complete: false,
  };
  const parts: Uint8Array[] = [];
  const reader = readable.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        res.complete = true;
        break;
      }
      for (const f of frames.push(value)) {
        if (f.kind === "data") parts.push(f.bytes.slice());
        else if (f.kind === "frame" && f.type === 0x01) {
          const s = decodeFieldSection(f.payload, 1 << 20);
          const map = new Map(s.names.map((n, i) => [n, s.values[i]]));
          if (res.status === 0) {
            const status = Number(map.get(":status"));
            if (status >= 200) {
              res.status = status;
              res.headers = map;
            } else res.interim.push(status);
          } else res.trailers = map;
        }
      }
    }
  } catch {
    // reset
  }
  res.body = cat(...parts);
  return res;
}
