/**
 * The one syntax for sizes and intervals that every flag and option uses. Sizes: a whole number
 * of bytes, or with `K`, `M` or `G` in any case (powers of 1024; `KB`, `KiB` also read). Intervals:
 * a whole number with `s`, `m` (minutes), `h`, `d` or `w`; `M` is refused, since it reads as a
 * minute to some and a month to others.
 *
 * @module
 */

const SIZE_FACTORS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
const INTERVAL_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/**
 * Bytes in a size such as `10M`, `64k`, `1G` or `1048576`; throws `RangeError` saying what is
 * accepted.
 *
 * @example
 * ```ts
 * import { parseSize } from "./units.ts";
 * console.log(parseSize("10M"), parseSize("64k"), parseSize("512")); // 10485760 65536 512
 * ```
 */
export function parseSize(s: string): number {
  const m = /^(\d+)\s*([kmg]?)(?:i?b)?$/i.exec(s.trim());
  if (!m) {
    throw new RangeError(
      `${JSON.stringify(s)} is not a size: write bytes, or K, M or G (like 512, 64K, 10M)`,
    );
  }
  const n = Number(m[1]) * SIZE_FACTORS[m[2].toLowerCase()];
  if (!Number.isSafeInteger(n)) throw new RangeError(`${s} is too large`);
  return n;
}

/**
 * Milliseconds in an interval such as `30s`, `15m`, `6h`, `1d` or `1w`; throws `RangeError`.
 *
 * @example
 * ```ts
 * import { parseInterval } from "./units.ts";
 * console.log(parseInterval("6h")); // 21600000
 * ```
 */
export function parseInterval(s: string): number {
  const m = /^(\d+)\s*(s|m|min|h|d|w)$/.exec(s.trim());
  if (!m) {
    const hint = /^\d+\s*M$/.test(s.trim())
      ? " (M is ambiguous: write 30m for minutes, 30d for a month)"
      : "";
    throw new RangeError(
      `${JSON.stringify(s)} is not an interval: write s, m, h, d or w (like 30s, 15m, 6h, 1d)${hint}`,
    );
  }
  return Number(m[1]) * INTERVAL_MS[m[2]];
}

/**
 * A size written back the way people write it: `64M`, `16K`, `1000`.
 *
 * @example
 * ```ts
 * import { formatSize } from "./units.ts";
 * console.log(formatSize(67108864), formatSize(1000)); // "64M" "1000"
 * ```
 */
export function formatSize(n: number): string {
  for (const [unit, f] of [["G", 1024 ** 3], ["M", 1024 ** 2], ["K", 1024]] as const) {
    if (n >= f && n % f === 0) return `${n / f}${unit}`;
  }
  return String(n);
}
