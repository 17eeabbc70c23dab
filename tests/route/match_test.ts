/**
 * Route and site matchers (`src/route/match.ts`), as Caddy's: exact paths, prefix globs, hosts
 * with `*.` wildcards of one label, header conditions.
 */

import assert from "assert";
import { headerMatcher, hostMatches, pathMatcher } from "../../src/route/match.ts";
import { HeaderList } from "../../src/http/headers.ts";

Deno.test("route match: a path is exact, a prefix glob ending in *, or every path", () => {
  const exact = pathMatcher("/old");
  assert.deepEqual(["/old", "/old/", "/older", "/"].map(exact), [true, false, false, false]);
  const api = pathMatcher("/api/*");
  assert.deepEqual(["/api/", "/api/users", "/api", "/apix"].map(api), [true, true, false, false]);
  const glob = pathMatcher("/assets*");
  assert.deepEqual(["/assets", "/assets.json", "/asset"].map(glob), [true, true, false]);
  for (const every of [undefined, "*", "/*"]) assert.ok(pathMatcher(every)("/anything/at/all"));
});

Deno.test("route match: hosts compare without case, port or trailing dot; *. is one label", () => {
  assert.ok(hostMatches("a.test", "A.Test:8443"));
  assert.ok(hostMatches("a.test", "a.test."));
  assert.ok(!hostMatches("a.test", "www.a.test"));
  assert.ok(hostMatches("*.b.test", "api.b.test"));
  assert.ok(!hostMatches("*.b.test", "b.test"));
  assert.ok(!hostMatches("*.b.test", "x.y.b.test"));
  assert.ok(hostMatches("[::1]", "[::1]:8080"));
});

Deno.test("route match: header conditions need every field with its value; * only presence", () => {
  const m = headerMatcher({ "X-Key": "v", "X-Any": "*" });
  const h = (pairs: [string, string][]) =>
    new HeaderList(pairs.map(([k]) => k.toLowerCase()), pairs.map(([, v]) => v));
  assert.ok(m(h([["X-Key", "v"], ["X-Any", "1"]])));
  assert.ok(!m(h([["X-Key", "V"], ["X-Any", "1"]])), "values compare exactly");
  assert.ok(!m(h([["X-Key", "v"]])), "a missing field fails");
});
