/**
 * Address allow-lists in CIDR notation (`127.0.0.0/8`, `::1/128`, `10.1.2.3`), for
 * `--metrics-allow`.
 *
 * @module
 */

/** One parsed CIDR block. */
interface Block {
  /** 4 or 16 bytes. */
  bytes: Uint8Array;
  /** Prefix length in bits. */
  bits: number;
}

/** IPv4 dotted quad → 4 bytes, or undefined. */
function parseV4(s: string): Uint8Array | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i]) || Number(parts[i]) > 255) return undefined;
    out[i] = Number(parts[i]);
  }
  return out;
}

/** IPv6 text (with `::` and an optional embedded IPv4 tail) → 16 bytes, or undefined. */
function parseV6(s: string): Uint8Array | undefined {
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  let tail: Uint8Array | undefined;
  const lastColon = s.lastIndexOf(":");
  if (s.slice(lastColon + 1).includes(".")) {
    tail = parseV4(s.slice(lastColon + 1));
    if (tail === undefined) return undefined;
    s = s.slice(0, lastColon + 1) + "0:0";
  }
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const groups = (h: string) => (h === "" ? [] : h.split(":"));
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - rest.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) return undefined;
  const all = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(all[i])) return undefined;
    const v = parseInt(all[i], 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  }
  if (tail !== undefined) out.set(tail, 12);
  return out;
}

/** An address as bytes; IPv4-mapped IPv6 (`::ffff:a.b.c.d`) becomes IPv4. */
export function parseAddress(addr: string): Uint8Array | undefined {
  const a = addr.startsWith("[") && addr.endsWith("]") ? addr.slice(1, -1) : addr;
  const v4 = parseV4(a);
  if (v4 !== undefined) return v4;
  const v6 = parseV6(a);
  if (v6 === undefined) return undefined;
  const mapped = v6.slice(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
  return mapped ? v6.slice(12) : v6;
}

/**
 * A set of CIDR blocks.
 *
 * @example
 * ```ts
 * import { AllowList } from "./cidr.ts";
 * const allow = AllowList.parse("127.0.0.0/8,::1");
 * console.log(allow.allows("127.0.0.1"), allow.allows("10.0.0.1")); // true false
 * ```
 */
export class AllowList {
  readonly #blocks: Block[];

  private constructor(blocks: Block[]) {
    this.#blocks = blocks;
  }

  /** Parses a comma-separated list; throws RangeError naming a bad entry. */
  static parse(list: string): AllowList {
    const blocks: Block[] = [];
    for (const raw of list.split(",")) {
      const entry = raw.trim();
      if (entry === "") continue;
      const [addr, len] = entry.split("/");
      const bytes = parseAddress(addr);
      if (bytes === undefined) throw new RangeError(`not an IP address: ${entry}`);
      const max = bytes.length * 8;
      const bits = len === undefined ? max : Number(len);
      if (!/^\d+$/.test(len ?? String(max)) || bits > max) {
        throw new RangeError(`bad prefix length: ${entry}`);
      }
      blocks.push({ bytes, bits });
    }
    return new AllowList(blocks);
  }

  /** Whether `addr` falls in one of the blocks. */
  allows(addr: string): boolean {
    const a = parseAddress(addr);
    if (a === undefined) return false;
    outer: for (const b of this.#blocks) {
      if (b.bytes.length !== a.length) continue;
      let bits = b.bits;
      for (let i = 0; bits > 0; i++, bits -= 8) {
        const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
        if ((a[i] & mask) !== (b.bytes[i] & mask)) continue outer;
      }
      return true;
    }
    return false;
  }
}

/** Loopback only: the default of `--metrics-allow`. */
export const LOOPBACK = "127.0.0.0/8,::1/128";
