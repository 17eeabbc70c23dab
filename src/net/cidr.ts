/**
 * Address allow-lists in CIDR notation (`127.0.0.0/8`, `::1/128`, `10.1.2.3`), for
 * `--metrics-allow`, on `node:net`'s `BlockList` (which also matches IPv4-mapped IPv6 addresses
 * against IPv4 blocks). It runs once per `/_metrics` request, far from any hot path, so the
 * library is used as it is.
 *
 * @module
 */

import { BlockList, isIP } from "node:net";

/** An address without brackets or a zone id, and its family; undefined when it is not an address. */
function normalise(addr: string): { address: string; family: "ipv4" | "ipv6" } | undefined {
  let a = addr.startsWith("[") && addr.endsWith("]") ? addr.slice(1, -1) : addr;
  const zone = a.indexOf("%");
  if (zone >= 0) a = a.slice(0, zone);
  const v = isIP(a);
  return v === 4 ? { address: a, family: "ipv4" } : v === 6 ? { address: a, family: "ipv6" } : undefined;
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
  readonly #list: BlockList;

  private constructor(list: BlockList) {
    this.#list = list;
  }

  /** Parses a comma-separated list; throws RangeError naming a bad entry. */
  static parse(list: string): AllowList {
    const blocks = new BlockList();
    for (const raw of list.split(",")) {
      const entry = raw.trim();
      if (entry === "") continue;
      const [addr, len, extra] = entry.split("/");
      const a = normalise(addr);
      if (a === undefined) throw new RangeError(`not an IP address: ${entry}`);
      const max = a.family === "ipv4" ? 32 : 128;
      if (extra !== undefined || (len !== undefined && (!/^\d+$/.test(len) || Number(len) > max))) {
        throw new RangeError(`bad prefix length: ${entry}`);
      }
      blocks.addSubnet(a.address, len === undefined ? max : Number(len), a.family);
    }
    return new AllowList(blocks);
  }

  /** Whether `addr` falls in one of the blocks. */
  allows(addr: string): boolean {
    const a = normalise(addr);
    return a !== undefined && this.#list.check(a.address, a.family);
  }
}

/** Loopback only: the default of `--metrics-allow`. */
export const LOOPBACK = "127.0.0.0/8,::1/128";
