/**
 * The protocol cases of the Autobahn test suite's sections, as ferry's own table: the frames a
 * client sends and what the server must answer, frame by frame. Sections follow Autobahn's
 * numbering: 1 framing, 2 pings and pongs, 3 reserved bits, 4 opcodes, 5 fragmentation, 6 UTF-8
 * handling, 7 close handling, 9 limits, 12/13 permessage-deflate. The server under test echoes
 * every message (text as text, binary as binary) and allows messages of up to
 * {@linkcode TABLE_MAX_MESSAGE} bytes.
 *
 * @module
 */

import zlib from "node:zlib";
import { type ClientFrame, closeBody } from "../helpers/ws_frames.ts";

/** The server's `wsMaxMessageBytes` for the table. */
export const TABLE_MAX_MESSAGE = 65536;

/** What the server must send next. */
export type Expect =
  | { text: string }
  | { binary: Uint8Array }
  | { pong: Uint8Array | string }
  | { close: number | "empty" };

/** One case. */
export interface Row {
  /** Autobahn-style case number. */
  id: string;
  /** What it checks. */
  what: string;
  /** The frames, sent in one write unless `chunk` says otherwise. */
  send: ClientFrame[];
  /** Write the bytes in pieces of this many bytes. */
  chunk?: number;
  /** Send only the first `cut` bytes (the server must act before the rest, which never comes). */
  cut?: number;
  /** The server's frames, in order. Without a final close, the runner closes normally after. */
  expect: Expect[];
  /** Offer permessage-deflate in the handshake. */
  deflate?: boolean;
}

const T = 0x1;
const B = 0x2;
const C = 0x0;
const CLOSE_OP = 0x8;
const PING = 0x9;
const PONG = 0xa;

const bytes = (...b: number[]) => new Uint8Array(b);
const fill = (n: number, v = 0x2a) => new Uint8Array(n).fill(v);
const text = (s: string, more: Partial<ClientFrame> = {}): ClientFrame => ({
  opcode: T,
  payload: s,
  ...more,
});

/** A message compressed as permessage-deflate sends it (no trailing 00 00 FF FF). */
export function compress(payload: Uint8Array | string): Uint8Array {
  const input = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  const out = zlib.deflateRawSync(input, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return new Uint8Array(out.subarray(0, out.length - 4));
}

const rows: Row[] = [];
const row = (
  id: string,
  what: string,
  send: ClientFrame[],
  expect: Expect[],
  more: { deflate?: boolean; chunk?: number; cut?: number } = {},
) => rows.push({ id, what, send, expect, ...more });

// 1. Framing: text and binary at each length-form boundary.
for (const n of [0, 125, 126, 127, 128, 65535, 65536]) {
  row(`1.1.${n}`, `text message of ${n} bytes`, [text("*".repeat(n))], [{ text: "*".repeat(n) }]);
  row(`1.2.${n}`, `binary message of ${n} bytes`, [{ opcode: B, payload: fill(n, 0xfe) }], [{
    binary: fill(n, 0xfe),
  }]);
}
row("1.3.1", "a short length in the 16-bit form is refused", [text("abc", { lengthForm: 16 })], [{
  close: 1002,
}]);
row("1.3.2", "a short length in the 64-bit form is refused", [text("abc", { lengthForm: 64 })], [{
  close: 1002,
}]);
row("1.3.3", "an unmasked client frame is refused", [text("abc", { mask: false })], [{ close: 1002 }]);

// 2. Pings and pongs.
row("2.1", "ping without payload", [{ opcode: PING }], [{ pong: "" }]);
row("2.2", "ping with a text payload", [{ opcode: PING, payload: "Hello, world!" }], [{
  pong: "Hello, world!",
}]);
row("2.3", "ping with a binary payload", [{ opcode: PING, payload: bytes(0, 0xff, 0xfe, 0xfd, 0xfc) }], [{
  pong: bytes(0, 0xff, 0xfe, 0xfd, 0xfc),
}]);
row("2.4", "ping with a 125-byte payload", [{ opcode: PING, payload: fill(125, 0xfe) }], [{
  pong: fill(125, 0xfe),
}]);
row("2.5", "ping with a 126-byte payload is refused", [{ opcode: PING, payload: fill(126) }], [{
  close: 1002,
}]);
row("2.6", "unsolicited pong is ignored", [{ opcode: PONG, payload: "unsolicited" }, text("after")], [{
  text: "after",
}]);
row("2.7", "unsolicited pong then ping", [{ opcode: PONG, payload: "x" }, { opcode: PING, payload: "y" }], [{
  pong: "y",
}]);
row(
  "2.8",
  "ten pings get ten pongs, in order",
  Array.from({ length: 10 }, (_, i) => ({ opcode: PING, payload: `ping ${i}` })),
  Array.from({ length: 10 }, (_, i) => ({ pong: `ping ${i}` })),
);
row("2.9", "ping sent byte by byte", [{ opcode: PING, payload: "slow" }], [{ pong: "slow" }], { chunk: 1 });

// 3. Reserved bits.
row("3.1", "RSV2 set on a text frame", [text("x", { rsv: 2 })], [{ close: 1002 }]);
row("3.2", "RSV1 set without permessage-deflate", [text("x", { rsv: 4 })], [{ close: 1002 }]);
row("3.3", "RSV3 after a valid message: the first is echoed", [text("ok"), text("x", { rsv: 1 })], [
  { text: "ok" },
  { close: 1002 },
]);
row("3.4", "RSV1|RSV2 on a binary frame", [{ opcode: B, payload: fill(3), rsv: 6 }], [{ close: 1002 }]);
row("3.5", "RSV bits on a ping", [{ opcode: PING, payload: "p", rsv: 7 }], [{ close: 1002 }]);

// 4. Opcodes.
for (const op of [3, 4, 5, 6, 7]) {
  row(`4.1.${op}`, `reserved data opcode ${op}`, [{ opcode: op, payload: "x" }], [{ close: 1002 }]);
}
for (const op of [0xb, 0xc, 0xd, 0xe, 0xf]) {
  row(`4.2.${op}`, `reserved control opcode ${op}`, [{ opcode: op }], [{ close: 1002 }]);
}
row("4.3", "a valid message, then a reserved opcode", [text("first"), { opcode: 0x5 }], [
  { text: "first" },
  { close: 1002 },
]);

// 5. Fragmentation.
row("5.1", "a fragmented ping is refused", [{ opcode: PING, payload: "a", fin: false }], [{ close: 1002 }]);
row("5.2", "a fragmented pong is refused", [{ opcode: PONG, payload: "a", fin: false }], [{ close: 1002 }]);
row("5.3", "text in two fragments", [text("frag", { fin: false }), { opcode: C, payload: "ment" }], [{
  text: "fragment",
}]);
row(
  "5.4",
  "text in fragments, written byte by byte",
  [text("frag", { fin: false }), {
    opcode: C,
    payload: "ment",
  }],
  [{ text: "fragment" }],
  { chunk: 1 },
);
row("5.5", "a ping between fragments is answered first", [
  text("frag", { fin: false }),
  { opcode: PING, payload: "between" },
  { opcode: C, payload: "ment" },
], [{ pong: "between" }, { text: "fragment" }]);
row("5.6", "a pong between fragments", [
  text("frag", { fin: false }),
  { opcode: PONG, payload: "x" },
  { opcode: C, payload: "ment" },
], [{ text: "fragment" }]);
row("5.7", "binary in many fragments", [
  { opcode: B, payload: fill(10, 1), fin: false },
  ...Array.from({ length: 8 }, () => ({ opcode: C, payload: fill(10, 1), fin: false })),
  { opcode: C, payload: fill(10, 1) },
], [{ binary: fill(100, 1) }]);
row("5.8", "empty fragments", [text("", { fin: false }), { opcode: C, fin: false }, {
  opcode: C,
  payload: "x",
}], [{
  text: "x",
}]);
row("5.9", "a continuation with no message", [{ opcode: C, payload: "x" }], [{ close: 1002 }]);
row("5.10", "a final continuation with no message", [{ opcode: C, payload: "x", fin: true }], [{
  close: 1002,
}]);
row("5.11", "a new text message inside a fragmented one", [text("a", { fin: false }), text("b")], [{
  close: 1002,
}]);
row("5.12", "a binary message inside a fragmented text", [text("a", { fin: false }), {
  opcode: B,
  payload: "b",
}], [{ close: 1002 }]);

// 6. UTF-8.
const utf8 = (s: string) => new TextEncoder().encode(s);
row("6.1", "valid multi-byte text", [text("κόσμε €𝄞")], [{ text: "κόσμε €𝄞" }]);
row("6.2", "a 4-byte sequence split across fragments", [
  { opcode: T, payload: utf8("𝄞").subarray(0, 2), fin: false },
  { opcode: C, payload: utf8("𝄞").subarray(2) },
], [{ text: "𝄞" }]);
row("6.3", "invalid UTF-8 in one frame", [{ opcode: T, payload: bytes(0xce, 0xba, 0xff) }], [{
  close: 1007,
}]);
row("6.4", "an overlong encoding", [{ opcode: T, payload: bytes(0xc0, 0xaf) }], [{ close: 1007 }]);
row("6.5", "an encoded surrogate", [{ opcode: T, payload: bytes(0xed, 0xa0, 0x80) }], [{ close: 1007 }]);
row("6.6", "a code point above U+10FFFF", [{ opcode: T, payload: bytes(0xf4, 0x90, 0x80, 0x80) }], [{
  close: 1007,
}]);
row("6.7", "a message ending inside a sequence", [{ opcode: T, payload: bytes(0x61, 0xe2, 0x82) }], [{
  close: 1007,
}]);
row("6.8", "fail fast: an invalid first fragment is refused before the rest arrives", [{
  opcode: T,
  payload: bytes(0x61, 0xf8),
  fin: false,
}], [{ close: 1007 }]);
row(
  "6.9",
  "fail fast inside a frame whose end never comes",
  [{
    opcode: T,
    payload: new Uint8Array([0xce, 0xba, 0xed, 0xa0, 0x80, ...fill(20, 0x61)]),
  }],
  [{ close: 1007 }],
  { cut: 6 + 8 },
);
row(
  "6.10",
  "invalid UTF-8 in a close reason",
  [{ opcode: CLOSE_OP, payload: closeBody(1000, bytes(0xff)) }],
  [{
    close: 1007,
  }],
);
row("6.11", "a byte-order mark is kept", [{ opcode: T, payload: bytes(0xef, 0xbb, 0xbf, 0x61) }], [{
  text: "\ufeffa",
}]);

// 7. Close handling.
row("7.1", "close 1000 is echoed", [{ opcode: CLOSE_OP, payload: closeBody(1000) }], [{ close: 1000 }]);
row("7.2", "an empty close gets an empty close", [{ opcode: CLOSE_OP }], [{ close: "empty" }]);
row("7.3", "a 1-byte close payload is refused", [{ opcode: CLOSE_OP, payload: bytes(0x03) }], [{
  close: 1002,
}]);
row("7.4", "a close with a 123-byte reason", [{
  opcode: CLOSE_OP,
  payload: closeBody(1000, "r".repeat(123)),
}], [{
  close: 1000,
}]);
row(
  "7.5",
  "frames after a close are ignored",
  [{ opcode: CLOSE_OP, payload: closeBody(1000) }, text("late")],
  [{
    close: 1000,
  }],
);
row("7.6", "a message, then close", [text("bye"), { opcode: CLOSE_OP, payload: closeBody(1000) }], [
  { text: "bye" },
  { close: 1000 },
]);
for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999]) {
  row(`7.7.${code}`, `valid close code ${code} is echoed`, [{ opcode: CLOSE_OP, payload: closeBody(code) }], [
    {
      close: code,
    },
  ]);
}
for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
  row(`7.9.${code}`, `invalid close code ${code} is refused`, [{
    opcode: CLOSE_OP,
    payload: closeBody(code),
  }], [{
    close: 1002,
  }]);
}

// 9. Limits.
row("9.1", "a frame declared over the limit is refused before its payload", [{
  opcode: B,
  payload: fill(TABLE_MAX_MESSAGE + 1),
}], [{ close: 1009 }]);
row("9.2", "fragments that add up to more than the limit", [
  { opcode: T, payload: "a".repeat(40000), fin: false },
  { opcode: C, payload: "a".repeat(40000) },
], [{ close: 1009 }]);
row("9.3", "a message of exactly the limit", [{ opcode: B, payload: fill(TABLE_MAX_MESSAGE, 7) }], [{
  binary: fill(TABLE_MAX_MESSAGE, 7),
}]);

// 12/13. permessage-deflate.
const long = "hello, compressed world. ".repeat(200);
row("12.1", "a compressed text message", [{ opcode: T, payload: compress(long), rsv: 4 }], [{ text: long }], {
  deflate: true,
});
row(
  "12.2",
  "a compressed message in fragments",
  [
    { opcode: T, payload: compress(long).subarray(0, 10), rsv: 4, fin: false },
    { opcode: C, payload: compress(long).subarray(10) },
  ],
  [{ text: long }],
  { deflate: true },
);
row("12.3", "uncompressed messages still work when deflate is agreed", [text("plain")], [{ text: "plain" }], {
  deflate: true,
});
row(
  "12.4",
  "RSV1 on a continuation frame",
  [text("a", { fin: false }), {
    opcode: C,
    payload: "b",
    rsv: 4,
  }],
  [{ close: 1002 }],
  { deflate: true },
);
row(
  "12.5",
  "a compression bomb over the limit",
  [{
    opcode: B,
    payload: compress(new Uint8Array(10 * TABLE_MAX_MESSAGE)),
    rsv: 4,
  }],
  [{ close: 1009 }],
  { deflate: true },
);
row("12.6", "corrupt compressed data", [{ opcode: B, payload: bytes(0xff, 0xff, 0x01, 0x02), rsv: 4 }], [{
  close: 1007,
}], { deflate: true });
row("12.7", "compressed text that is not UTF-8", [{
  opcode: T,
  payload: compress(bytes(0xc0, 0xaf)),
  rsv: 4,
}], [{
  close: 1007,
}], { deflate: true });
row("12.8", "RSV1 on a ping even with deflate", [{ opcode: PING, rsv: 4 }], [{ close: 1002 }], {
  deflate: true,
});

/** Every case. */
export const PROTOCOL_TABLE: readonly Row[] = rows;
