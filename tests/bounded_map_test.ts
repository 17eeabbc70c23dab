/** The byte-bounded map that holds client-chosen keys (path caches, header-name caches). */

import assert from "assert";
import { BoundedMap } from "../src/bounded_map.ts";

Deno.test("bounded map: 10,000 keys of 8 KB stay within the byte budget, the newest kept", () => {
  const m = new BoundedMap<string>(1024 * 1024, (v) => v.length * 2);
  for (let i = 0; i < 10_000; i++) m.set(`/${i}/${"a".repeat(8000)}`, "x");
  assert.ok(m.bytes <= 1024 * 1024, `${m.bytes} bytes held`);
  assert.ok(m.size > 0 && m.size < 100, `${m.size} entries`);
  assert.ok(m.has(`/9999/${"a".repeat(8000)}`));
  assert.ok(!m.has(`/0/${"a".repeat(8000)}`));
});

Deno.test("bounded map: replacing a key does not count it twice; an entry over the budget is not kept", () => {
  const m = new BoundedMap<string>(10_000, (v) => v.length);
  m.set("k", "v".repeat(100));
  const once = m.bytes;
  m.set("k", "v".repeat(100));
  assert.equal(m.bytes, once);
  m.set("huge", "h".repeat(20_000));
  assert.ok(!m.has("huge"));
  assert.ok(m.has("k"));
  m.delete("k");
  assert.equal(m.bytes, 0);
  assert.throws(() => new BoundedMap(0, () => 0), RangeError);
});
