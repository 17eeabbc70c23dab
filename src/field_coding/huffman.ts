/**
 * HPACK's Huffman coding (RFC 7541 §5.2, the code of Appendix B), which QPACK shares (RFC 9204
 * §4.1.2): decoding with the checks the RFC asks for (no EOS symbol, padding of at most 7 bits,
 * all ones), and encoding.
 *
 * @module
 */

import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from "./huffman_table.ts";

/** A Huffman string that breaks RFC 7541 §5.2 (a COMPRESSION_ERROR for the connection). */
export class HuffmanError extends Error {}

/**
 * The decoding tree, flat: `TREE[node * 2 + bit]` is the next node (> 0), a leaf `-(symbol + 1)`,
 * or 0 where no code continues.
 */
const TREE: Int16Array = buildTree();

function buildTree(): Int16Array {
  const tree = new Int16Array(2 * 2 * 257);
  let nodes = 1;
  for (let sym = 0; sym <= 256; sym++) {
    const code = HUFFMAN_CODES[sym];
    const len = HUFFMAN_LENGTHS[sym];
    let node = 0;
    for (let i = len - 1; i >= 0; i--) {
      // Codes are up to 30 bits: plain division keeps them exact.
      const bit = Math.floor(code / 2 ** i) & 1;
      const slot = node * 2 + bit;
      if (i === 0) tree[slot] = -(sym + 1);
      else {
        if (tree[slot] === 0) tree[slot] = nodes++;
        node = tree[slot];
      }
    }
  }
  return tree;
}

/** Scratch space for decoded octets, grown as needed. */
let scratch = new Uint8Array(256);

/**
 * Decodes the Huffman-coded `bytes` as a latin1 string (one character per octet).
 *
 * @example
 * ```ts
 * import { huffmanDecode, huffmanEncode } from "./huffman.ts";
 * console.log(huffmanDecode(huffmanEncode("www.example.com"))); // "www.example.com"
 * ```
 */
export function huffmanDecode(bytes: Uint8Array): string {
  // Every code is at least 5 bits: at most 8/5 octets out per octet in.
  const max = Math.ceil(bytes.length * 8 / 5);
  if (scratch.length < max) scratch = new Uint8Array(max * 2);
  const out = scratch;
  let n = 0;
  let node = 0;
  let depth = 0; // bits since the last symbol
  let ones = true; // whether those bits are all ones
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    for (let b = 7; b >= 0; b--) {
      const bit = (byte >> b) & 1;
      const next = TREE[node * 2 + bit];
      if (next < 0) {
        const sym = -next - 1;
        if (sym === 256) throw new HuffmanError("Huffman string contains EOS");
        out[n++] = sym;
        node = 0;
        depth = 0;
        ones = true;
      } else {
        node = next;
        depth++;
        if (bit === 0) ones = false;
      }
    }
  }
  if (depth > 7) throw new HuffmanError("Huffman padding longer than 7 bits");
  if (!ones) throw new HuffmanError("Huffman padding is not the EOS prefix");
  return latin1(out, n);
}

/** `bytes[0..n)` as a string of one character per octet. */
export function latin1(bytes: Uint8Array, n: number): string {
  let s = "";
  for (let i = 0; i < n; i += 4096) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(n, i + 4096)) as unknown as number[]);
  }
  return s;
}

/** The length in octets of `s` (latin1) Huffman-coded. */
export function huffmanLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += HUFFMAN_LENGTHS[s.charCodeAt(i) & 0xff];
  return (bits + 7) >> 3;
}

/**
 * Writes `s` (latin1) Huffman-coded into `out` at `at`; returns the index after it. `out` must
 * have {@linkcode huffmanLength} octets of room.
 */
export function huffmanEncodeInto(s: string, out: Uint8Array, at: number): number {
  let acc = 0; // pending bits, fewer than 8 between symbols
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const sym = s.charCodeAt(i) & 0xff;
    const len = HUFFMAN_LENGTHS[sym];
    acc = acc * 2 ** len + HUFFMAN_CODES[sym]; // at most 37 bits: exact in a double
    n += len;
    while (n >= 8) {
      n -= 8;
      const shift = 2 ** n;
      const byte = Math.floor(acc / shift);
      out[at++] = byte;
      acc -= byte * shift;
    }
  }
  if (n > 0) out[at++] = (acc << (8 - n)) | (0xff >> n); // pad with the EOS prefix (ones)
  return at;
}

/** `s` (latin1) Huffman-coded. */
export function huffmanEncode(s: string): Uint8Array {
  const out = new Uint8Array(huffmanLength(s));
  huffmanEncodeInto(s, out, 0);
  return out;
}
