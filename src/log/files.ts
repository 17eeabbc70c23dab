/**
 * Log files with rotation by size and by age, rotated files gzipped (`npm:rotating-file-stream`).
 * The logger hands this sink whole batches of whole lines, one write at a time, so a rotation
 * falls between lines: none is lost or split.
 *
 * @module
 */

import { basename, dirname } from "path";
import { Buffer } from "node:buffer";
import { createStream, type RotatingFileStream } from "rotating-file-stream";
import type { LogSink } from "./logger.ts";

/** When to rotate. */
export interface RotationOptions {
  /**
   * Rotate when the file reaches this size (`10M`, `500K`, `1G`); empty: never by size.
   * @default {"10M"}
   */
  size?: string;
  /**
   * Rotate at this interval (`1d`, `12h`, `30m`); empty: never by age.
   * @default {"1d"}
   */
  interval?: string;
  /**
   * Rotated files kept; older ones are deleted. 0: keep all.
   * @default {30}
   */
  keep?: number;
}

/** A log file that rotates; `close()` flushes and closes it. */
export interface FileSink extends LogSink {
  /** Ends the stream once everything is written. */
  close(): Promise<void>;
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

/**
 * Opens `path` for appending, rotating as `options` says. Rotated files are named
 * `NAME.YYYYMMDDTHHMMSSZ.N.gz` beside it.
 *
 * @example
 * ```ts ignore
 * const sink = fileSink("logs/access.log", { size: "10M", interval: "1d", keep: 30 });
 * ```
 */
export function fileSink(path: string, options: RotationOptions = {}): FileSink {
  const name = basename(path);
  const size = options.size ?? "10M";
  const interval = options.interval ?? "1d";
  const keep = options.keep ?? 30;
  const stream: RotatingFileStream = createStream(
    (time: number | Date | null, index?: number) => {
      if (time === null) return name;
      const t = typeof time === "number" ? new Date(time) : time;
      return `${name}.${stamp(t)}.${index ?? 1}.gz`;
    },
    {
      path: dirname(path),
      ...(size !== "" ? { size } : {}),
      ...(interval !== "" ? { interval } : {}),
      ...(keep > 0 ? { maxFiles: keep } : {}),
      compress: "gzip",
      history: `.${name}.history`,
    },
  );
  let failed: Error | undefined;
  stream.on("error", (e: Error) => failed = e);
  return {
    write(p: Uint8Array): Promise<number> {
      if (failed !== undefined) return Promise.reject(failed);
      return new Promise((resolve, reject) => {
        stream.write(Buffer.from(p.buffer, p.byteOffset, p.length), (e?: Error | null) => {
          if (e) reject(e);
          else resolve(p.length);
        });
      });
    },
    close(): Promise<void> {
      return new Promise((resolve) => stream.end(() => resolve()));
    },
  };
}
