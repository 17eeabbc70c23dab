/** marshal.ts writes what Python's own `marshal.loads` reads back: each kind of value, at each size. */

import assert from "assert";
import { MarshalWriter } from "../../../src/app/python/marshal.ts";
import { PYTHON } from "../../helpers/python.ts";
import { needs } from "../../helpers/needs.ts";

Deno.test(
  "marshal: Python's marshal.loads reads back text, bytes, ints, tuples, lists, dicts and constants",
  needs("read", "write", "run"),
  async () => {
    const w = new MarshalWriter(8); // small, so that it grows
    const long = "y".repeat(70_000);
    w.list(12);
    w.text("");
    w.text("ascii");
    w.text(long);
    w.text("caf\u00e9 \u00ff latin-1");
    w.text("\u20ac \u{1f600} and a lone \ud800");
    w.latin1Bytes("a\u00ff\0b");
    w.rawBytes(new Uint8Array([0, 1, 255]));
    w.int(-5);
    w.int(65535);
    w.tuple(2);
    w.none();
    w.bool(true);
    w.dict();
    w.text("k");
    w.bool(false);
    w.endDict();
    w.list(0);
    const child = new Deno.Command(PYTHON, {
      args: [
        "-c",
        `import sys, marshal, json
v = marshal.loads(sys.stdin.buffer.read())
out = [x.hex() if isinstance(x, bytes) else x for x in v]
out[4] = out[4].encode("utf-8", "surrogatepass").hex()
print(json.dumps([out, [type(x).__name__ for x in v]]))`,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(w.bytes());
    await writer.close();
    const out = await child.output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const [values, types] = JSON.parse(new TextDecoder().decode(out.stdout));
    const utf8 = [...new TextEncoder().encode("\u20ac \u{1f600} and a lone ").values(), 0xed, 0xa0, 0x80];
    assert.deepEqual(values, [
      "",
      "ascii",
      long,
      "caf\u00e9 \u00ff latin-1",
      utf8.map((b) => b.toString(16).padStart(2, "0")).join(""),
      "61ff0062",
      "0001ff",
      -5,
      65535,
      [null, true],
      { k: false },
      [],
    ]);
    assert.deepEqual(types, [
      "str",
      "str",
      "str",
      "str",
      "str",
      "bytes",
      "bytes",
      "int",
      "int",
      "tuple",
      "dict",
      "list",
    ]);
  },
);
