/**
 * Byte ranges (RFC 9110 §14): what to send for a Range header on a representation of `size`
 * bytes. Parsing is `npm:range-parser`'s; the decisions (ignore, 416, one part, several parts,
 * or the whole file when the ranges are too many or cost more than they save) are ferry's.
 *
 * @module
 */

import rangeParser from "range-parser";

/** One inclusive byte range. */
export interface ByteRange {
  /** First byte. */
  start: number;
  /** Last byte (inclusive). */
  end: number;
}

/** What a Range header asks for. */
export type RangePlan =
  | { kind: "full" } // no usable Range: 200 with everything
  | { kind: "unsatisfiable" } // 416
  | { kind: "ranges"; ranges: ByteRange[] }; // 206, one part or multipart/byteranges

/**
 * `bytes=` followed by byte-range-specs (RFC 9110 §14.1.2): `first-last` with last >= first,
 * `first-`, or `-suffix`. Anything else makes the whole header invalid, and so ignored.
 */
export function validRangeSyntax(header: string): boolean {
  const m = /^bytes=(.+)$/i.exec(header.trim());
  if (m === null) return false; // another unit, or no ranges: ignored
  for (const raw of m[1].split(",")) {
    const spec = raw.trim();
    if (spec === "") continue;
    const r = /^(\d*)-(\d*)$/.exec(spec);
    if (r === null || (r[1] === "" && r[2] === "")) return false;
    if (r[1] !== "" && r[2] !== "" && Number(r[2]) < Number(r[1])) return false;
  }
  return true;
}

type ParsedRanges = Array<{ start: number; end: number }> & { type: string };

/** Most parts ferry sends in one multipart/byteranges response; more gets the whole file. */
export const MAX_RANGES = 16;

/**
 * Several parts covering at least this share of the file are sent as the whole file: multipart
 * framing for nearly everything costs more than it saves (RFC 9110 §14.2 lets a server ignore
 * such ranges).
 */
export const WASTEFUL_SHARE = 0.8;

/**
 * Decides how to answer `header` for `size` bytes. A malformed header or a unit other than bytes
 * is ignored (RFC 9110 §14.2). Overlapping and adjacent ranges are coalesced; more than
 * {@linkcode MAX_RANGES} parts, or parts covering {@linkcode WASTEFUL_SHARE} of the file or more,
 * get the whole file.
 *
 * @example
 * ```ts
 * import { planRanges } from "./range.ts";
 * console.log(planRanges("bytes=0-99", 1000)); // { kind: "ranges", ranges: [{ start: 0, end: 99 }] }
 * ```
 */
export function planRanges(header: string, size: number): RangePlan {
  if (!validRangeSyntax(header)) return { kind: "full" };
  const parsed = rangeParser(size, header, { combine: true }) as -1 | -2 | ParsedRanges;
  if (parsed === -2) return { kind: "full" };
  if (parsed === -1) return { kind: "unsatisfiable" };
  if (parsed.type !== "bytes") return { kind: "full" };
  const ranges: ByteRange[] = parsed.map((r) => ({ start: r.start, end: r.end })).sort((a, b) =>
    a.start - b.start
  );
  if (ranges.length > 1) {
    if (ranges.length > MAX_RANGES) return { kind: "full" };
    const total = ranges.reduce((n, r) => n + r.end - r.start + 1, 0);
    if (total >= size * WASTEFUL_SHARE) return { kind: "full" };
  }
  return { kind: "ranges", ranges };
}
