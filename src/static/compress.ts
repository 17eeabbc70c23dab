/**
 * Content codings for static files: small files compressed whole (once; the result is cached),
 * large ones compressed on the fly in bounded slices that take turns with other connections.
 *
 * @module
 */

import zlib from "zlib";
import type { ResponseWriter } from "../http/writer.ts";
import type { Coding } from "./media.ts";

/**
 * Brotli quality for on-the-fly compression: 4 costs about half the CPU of 5 for a few percent
 * more bytes (small files, compressed once for the cache, get 9).
 */
const ON_THE_FLY_BROTLI_QUALITY = 4;

/** zstd level for on-the-fly compression (zstd's own default; fast at a ratio near brotli 4's). */
const ON_THE_FLY_ZSTD_LEVEL = 3;

/** Bytes compressed in one slice of on-the-fly compression, between turns of the event loop. */
const COMPRESS_SLICE_BYTES = 32 * 1024;

/** Lets the event loop run (I/O of other connections) before the next slice of CPU work. */
const nextTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Compresses a file on the fly in 64 KiB slices, writing each slice's output before the next is
 * read and yielding to the event loop in between: a 16 MiB brotli response takes its turns with
 * everyone else's requests instead of holding the loop for the whole file (the stream pipe ran
 * every slice in one go of microtasks).
 */
export async function streamCompressed(
  res: ResponseWriter,
  path: string,
  size: number,
  coding: Coding,
): Promise<void> {
  const compressor = coding === "zstd"
    ? zlib.createZstdCompress({ params: { [zlib.constants.ZSTD_c_compressionLevel]: ON_THE_FLY_ZSTD_LEVEL } })
    : coding === "br"
    ? zlib.createBrotliCompress({
      params: { [zlib.constants.BROTLI_PARAM_QUALITY]: ON_THE_FLY_BROTLI_QUALITY },
    })
    : zlib.createGzip({ level: 6 });
  const output: Uint8Array[] = [];
  let failure: Error | undefined;
  compressor.on("data", (piece: Uint8Array) => output.push(piece));
  compressor.on("error", (e: Error) => failure = e);
  const ended = new Promise<void>((resolve) => compressor.once("end", resolve));
  const drainOutput = async () => {
    if (failure !== undefined) throw failure;
    while (output.length > 0) await res.write(output.shift()!);
  };
  try {
    using file = await Deno.open(path, { read: true });
    let left = size;
    while (left > 0) {
      const slice = new Uint8Array(Math.min(COMPRESS_SLICE_BYTES, left));
      const n = await file.read(slice);
      if (n === null) break;
      left -= n;
      await new Promise<void>((resolve, reject) =>
        compressor.write(n === slice.length ? slice : slice.subarray(0, n), (e) => e ? reject(e) : resolve())
      );
      await drainOutput();
      await nextTurn();
    }
    compressor.end();
    await ended;
    await drainOutput();
  } finally {
    compressor.destroy();
  }
}

/** Compresses a small file whole (its result is cached): zstd at level 12, brotli at quality 9, gzip at 6. */
export function compressWhole(data: Uint8Array, coding: Coding): Uint8Array {
  if (coding === "zstd") {
    return zlib.zstdCompressSync(data, {
      params: { [zlib.constants.ZSTD_c_compressionLevel]: 12 },
    });
  }
  if (coding === "br") {
    return zlib.brotliCompressSync(data, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: 9,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      },
    });
  }
  return zlib.gzipSync(data, { level: 6 });
}
