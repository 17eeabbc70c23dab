/**
 * `deno task loadgen --h3`: the HTTP/3 side of the load generator, on `Deno.connectQuic`. Each
 * connection opens its control stream with SETTINGS, then keeps `pipeline` request streams in
 * flight (HTTP/3 multiplexes: streams, not pipelining), each a HEADERS frame (and a DATA frame
 * with the body) and FIN; a response counts when its stream ends. Field sections are QPACK with
 * the static table (ferry's own encoder and decoder, `src/http3/`).
 *
 * @module
 */

import * as hdr from "hdr-histogram-js";
import { FRAME, frame, FrameReader, settingsFrame } from "../src/http3/frames.ts";
import { decodeFieldSection, encodeFieldSection } from "../src/http3/qpack.ts";
import type { LoadOptions, LoadResult } from "./loadgen.ts";

/** What an HTTP/3 run needs besides the shared options. */
export interface H3LoadOptions extends LoadOptions {
  /** PEM roots to trust (a self-signed server's certificate). */
  caCerts?: string[];
}

/**
 * Runs the load over HTTP/3 and measures it as the HTTP/1.1 generator does.
 *
 * @example
 * ```ts ignore
 * const r = await runH3({ url: "https://localhost:8443/hello", connections: 4, pipeline: 16, duration: 5,
 *   requests: 0, noKeepalive: false, method: "GET", timeout: 10, caCerts: [pem] });
 * console.log(r.requestsPerSecond);
 * ```
 */
export async function runH3(
  o: H3LoadOptions,
  onTick?: (done: number, elapsed: number) => void,
): Promise<LoadResult> {
  const url = new URL(o.url);
  const port = Number(url.port || 443);
  const hostname = url.hostname.replace(/^\[|\]$/g, "");
  const fields: Array<[string, string]> = [
    [":method", o.method],
    [":scheme", "https"],
    [":authority", url.host],
    [":path", url.pathname + url.search],
    ["user-agent", "ferry-loadgen"],
  ];
  if (o.body) fields.push(["content-length", String(o.body.length)]);
  const head = frame(FRAME.HEADERS, encodeFieldSection(fields));
  const request = o.body ? concat([head, frame(FRAME.DATA, o.body)]) : head;
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000 });
  const errors: Record<string, number> = {};
  const statuses: Record<string, number> = {};
  const fail = (kind: string) => errors[kind] = (errors[kind] ?? 0) + 1;
  let done = 0;
  let bytes = 0;
  let started = 0;
  const t0 = performance.now();
  const deadline = o.requests > 0 ? Infinity : t0 + o.duration * 1000;
  const more = () => performance.now() < deadline && (o.requests === 0 || started < o.requests);

  async function one(quic: Deno.QuicConn): Promise<void> {
    started++;
    const sentAt = performance.now();
    const bidi = await quic.createBidirectionalStream({ waitUntilAvailable: true });
    const w = bidi.writable.getWriter();
    w.write(request).catch(() => {});
    w.close().catch(() => {});
    const frames = new FrameReader(1 << 16);
    let status = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const reader = bidi.readable.getReader();
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timeout")), o.timeout * 1000);
    });
    try {
      for (;;) {
        const { value, done: end } = await Promise.race([reader.read(), timeout]);
        if (end) break;
        bytes += value.length;
        if (status !== 0) continue;
        for (const f of frames.push(value)) {
          if (f.kind === "frame" && f.type === FRAME.HEADERS) {
            const s = decodeFieldSection(f.payload, 1 << 16);
            status = Number(s.values[s.names.indexOf(":status")]);
            if (status < 200) status = 0;
            else break;
          }
        }
      }
    } finally {
      clearTimeout(timer);
    }
    const cls = `${Math.floor(status / 100)}xx`;
    statuses[cls] = (statuses[cls] ?? 0) + 1;
    if (status >= 400 || status === 0) fail(`status ${cls}`);
    done++;
    histogram.recordValue(Math.max(1, Math.round((performance.now() - sentAt) * 1000)));
  }

  async function connection(): Promise<void> {
    while (more()) {
      let quic: Deno.QuicConn;
      try {
        quic = await Deno.connectQuic({
          hostname,
          port,
          serverName: hostname,
          alpnProtocols: ["h3"],
          caCerts: o.caCerts,
        });
        const control = (await quic.createUnidirectionalStream()).getWriter();
        await control.write(concat([new Uint8Array([0x00]), settingsFrame([])]));
      } catch {
        fail("connect");
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      const lanes = Array.from({ length: Math.max(1, o.pipeline) }, async () => {
        while (more()) {
          try {
            await one(quic);
          } catch (e) {
            fail(e instanceof Error && e.message === "timeout" ? "timeout" : "stream");
            return;
          }
          if (o.noKeepalive) return;
        }
      });
      await Promise.all(lanes);
      quic.close({ closeCode: 0x100, reason: "" });
      if (!o.noKeepalive) return;
    }
  }

  const ticker = onTick ? setInterval(() => onTick(done, (performance.now() - t0) / 1000), 200) : undefined;
  await Promise.all(Array.from({ length: o.connections }, connection));
  clearInterval(ticker);
  const seconds = (performance.now() - t0) / 1000;
  onTick?.(done, seconds);
  const ms = (p: number) => histogram.getValueAtPercentile(p) / 1000;
  return {
    requests: done,
    seconds,
    requestsPerSecond: done / seconds,
    bytesPerSecond: bytes / seconds,
    latencyMs: { p50: ms(50), p90: ms(90), p99: ms(99), max: histogram.maxValue / 1000 },
    errors,
    statuses,
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
