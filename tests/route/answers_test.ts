/**
 * The actions that answer by themselves (`src/route/answers.ts`) and a site's response headers
 * (`src/route/site_headers.ts`), through the in-memory harness.
 */

import assert from "assert";
import { request } from "../../src/http/harness.ts";
import { redirectHandler, respondHandler } from "../../src/route/answers.ts";
import { withSiteHeaders } from "../../src/route/site_headers.ts";

Deno.test("route answers: respond sends its status, body and fields; text gets a type", async () => {
  const pong = await request(respondHandler({ body: "pong" }), "/ping");
  assert.deepEqual([pong.status, pong.text(), pong.header("content-type")], [
    200,
    "pong",
    "text/plain; charset=utf-8",
  ]);
  const teapot = await request(
    respondHandler({ status: 418, headers: { "Content-Type": "x/y", "X-A": "1" } }),
    "/",
  );
  assert.deepEqual([teapot.status, teapot.text(), teapot.header("content-type"), teapot.header("x-a")], [
    418,
    "",
    "x/y",
    "1",
  ]);
});

Deno.test("route answers: redirect fills {path} and {query}; 302 unless told", async () => {
  const moved = await request(
    redirectHandler({ to: "https://new.test{path}{query}", status: 308 }),
    "/a/b?x=1",
  );
  assert.deepEqual([moved.status, moved.header("location")], [308, "https://new.test/a/b?x=1"]);
  const plain = await request(redirectHandler({ to: "/new{query}" }), "/old");
  assert.deepEqual([plain.status, plain.header("location")], [302, "/new"]);
});

Deno.test("route answers: a site's headers are added to each response, replacing the action's own", async () => {
  const h = withSiteHeaders(respondHandler({ body: "x", headers: { "X-Frame-Options": "SAMEORIGIN" } }), {
    "X-Frame-Options": "DENY",
    "X-Site": "a",
  });
  const res = await request(h, "/");
  assert.deepEqual(res.headers.filter(([n]) => n.toLowerCase().startsWith("x-")), [
    ["X-Frame-Options", "DENY"],
    ["X-Site", "a"],
  ]);
  assert.throws(() => withSiteHeaders(h, { "Bad Name": "v" }), TypeError);
});
