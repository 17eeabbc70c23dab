import assert from "node:assert/strict";
import { RequestIds } from "../../src/http/request_ids.ts";

Deno.test("request ids: prefix-<counter in base 36>, across the table's 1,296 boundaries", () => {
  const ids = new RequestIds("p");
  for (let n = 0; n < 1296 * 40; n++) assert.equal(ids.next(), `p-${n.toString(36)}`);
});

Deno.test("request ids: two sources with random prefixes differ", () => {
  assert.notEqual(new RequestIds().next(), new RequestIds().next());
});
