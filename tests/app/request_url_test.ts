/**
 * `requestUrl` (`src/app/request_url.ts`) gives what the URL parser gives for the same parts: the
 * request's own string when it is already serialized, the parser's otherwise (dot segments, `%2e`,
 * upper-case or numeric hosts, default ports, characters the standard escapes).
 */

import assert from "assert";
import fc from "fast-check";
import { harnessRequest } from "../../src/http/harness.ts";
import { requestUrl } from "../../src/app/request_url.ts";

/** `[target, host, secure]` cases, plain ones and each kind the parser rewrites. */
const CASES: Array<[string, string, boolean]> = [
  ["/", "app.test", false],
  ["/a/b?c=1&d=2", "app.test:8080", false],
  ["/a/b", "127.0.0.1:8080", false],
  ["/x", "10.0.0.255", true],
  ["/%41%zz/%2F?q=%20", "app.test", false],
  ["/a/./b", "app.test", false],
  ["/a/../b", "app.test", false],
  ["/a/..", "app.test", false],
  ["/a/.", "app.test", false],
  ["/a/%2e%2E/b", "app.test", false],
  ["/a/.hidden/..x/x..", "app.test", false],
  ["/q?it's", "app.test", false],
  ["/a|b^c{d}", "app.test", false],
  ["/a\\b", "app.test", false],
  ["/é", "app.test", false],
  ["/", "App.Test", false],
  ["/", "app.test:80", false],
  ["/", "app.test:443", true],
  ["/", "app.test:443", false],
  ["/", "app.test:080", false],
  ["/", "app.test:", false],
  ["/", "1.2.3", false],
  ["/", "0x7f.1", false],
  ["/", "127.000.0.1", false],
  ["/", "256.0.0.1.5", false],
  ["/", "app.test.", false],
  ["/", "xn--nxasmq6b.test", false],
  ["/", "[::1]:8080", false],
  ["*", "app.test", false],
];

Deno.test("requestUrl: the URL parser's serialization, for plain and rewritten parts alike", () => {
  for (const [target, host, secure] of CASES) {
    const req = harnessRequest(target, { headers: { host }, secure });
    let expected: string;
    try {
      expected = new URL(req.url).href;
    } catch {
      assert.throws(() => requestUrl(req), TypeError, `${target} ${host}`);
      continue;
    }
    assert.equal(requestUrl(req), expected, `${target} on ${host}`);
  }
});

Deno.test("requestUrl: random paths, queries and hosts agree with the URL parser", () => {
  const chars = fc.constantFrom(..."aZ09-._~!$&'()*+,;=:@/%2e?.".split(""), "%41", "%2E", "%zz");
  const text = fc.array(chars, { maxLength: 12 }).map((xs) => xs.join(""));
  const host = fc.constantFrom("a.test", "A.test", "1.2.3.4", "1.2.3", "a.test:81", "a.test:80", "h:65536");
  fc.assert(
    fc.property(text, text, host, (path, query, h) => {
      const target = "/" + path.replaceAll("?", "") + (query === "" ? "" : "?" + query);
      const req = harnessRequest(target, { headers: { host: h } });
      let expected: string | undefined;
      try {
        expected = new URL(req.url).href;
      } catch {
        expected = undefined;
      }
      if (expected === undefined) assert.throws(() => requestUrl(req));
      else assert.equal(requestUrl(req), expected);
    }),
    { numRuns: 2000 },
  );
});
