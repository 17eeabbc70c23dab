/** The static module's pure pieces: path checks and Range plans. */

import assert from "assert";
import { safePath } from "../../src/static/path.ts";
import { planRanges } from "../../src/static/range.ts";

Deno.test("static path: decoding, dot segments, dotfiles, NUL, backslash and the trailing slash", () => {
  assert.deepEqual(safePath("a/b%20c.txt", false), {
    ok: true,
    rel: "a/b c.txt",
    segments: ["a", "b c.txt"],
    trailingSlash: false,
  });
  assert.equal((safePath("dir/", false) as { trailingSlash: boolean }).trailingSlash, true);
  assert.equal((safePath("hello.txt%2f", false) as { trailingSlash: boolean }).trailingSlash, true);
  for (
    const [raw, status] of [
      ["../x", 400],
      ["a/./b", 400],
      ["%2e%2e/x", 400],
      ["a%00b", 400],
      ["a%5cb", 400],
      ["%zz", 400],
      [".env", 404],
    ] as const
  ) {
    const r = safePath(raw, false);
    assert.equal(r.ok, false, raw);
    if (!r.ok) assert.equal(r.refusal.status, status, raw);
  }
  assert.equal(safePath(".env", true).ok, true);
});

Deno.test("static range: single, suffix, multiple coalesced, unsatisfiable, wasteful, malformed", () => {
  assert.deepEqual(planRanges("bytes=0-99", 1000), { kind: "ranges", ranges: [{ start: 0, end: 99 }] });
  assert.deepEqual(planRanges("bytes=-100", 1000), { kind: "ranges", ranges: [{ start: 900, end: 999 }] });
  assert.deepEqual(planRanges("bytes=0-9,5-19,100-109", 1000), {
    kind: "ranges",
    ranges: [{ start: 0, end: 19 }, { start: 100, end: 109 }],
  });
  assert.deepEqual(planRanges("bytes=2000-3000", 1000), { kind: "unsatisfiable" });
  assert.deepEqual(planRanges("bytes=0-499,500-999", 1000).kind, "ranges"); // coalesced to one
  assert.deepEqual(planRanges("bytes=0-10,20-990", 1000), { kind: "full" }); // nearly all of it
  for (const bad of ["bytes=9-1", "bytes=abc", "items=0-1", "bytes=0-1,,", "0-1"]) {
    assert.deepEqual(planRanges(bad, 1000), { kind: "full" }, bad);
  }
});
