/**
 * Percent-decoding of request paths (RFC 3986 §2.1) as UTF-8, for every module that decodes
 * paths (static files, uploads, WSGI-style apps).
 *
 * @module
 */

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Percent-decodes `raw` once, as UTF-8; undefined when an escape is malformed or the bytes are
 * not UTF-8.
 *
 * @example
 * ```ts
 * import { percentDecode } from "./percent.ts";
 * console.log(percentDecode("caf%C3%A9"), percentDecode("%zz")); // "café" undefined
 * ```
 */
export function percentDecode(raw: string): string | undefined {
  if (!raw.includes("%")) return raw;
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25) {
      const hex = raw.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      return undefined; // the parser only lets ASCII into a target
    }
  }
  try {
    return fatalUtf8.decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}
