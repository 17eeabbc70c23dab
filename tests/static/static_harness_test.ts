/** Static files through the in-memory exchange harness: statuses, ranges, validators, HEAD. */

import assert from "assert";
import { join } from "node:path";
import { request } from "../../src/http/harness.ts";
import { staticHandler } from "../../src/static/serve_static.ts";
import { needs } from "../helpers/needs.ts";

async function site(): Promise<string> {
  const root = await Deno.makeTempDir();
  await Deno.writeTextFile(join(root, "a.txt"), "0123456789");
  await Deno.mkdir(join(root, "docs"));
  await Deno.writeTextFile(join(root, "docs", "index.html"), "<h1>docs</h1>");
  await Deno.writeTextFile(join(root, ".secret"), "no");
  return root;
}

Deno.test(
  "static (harness): a file, its type and length; a missing one 404; a dotfile 404",
  needs("write"),
  async () => {
    const root = await site();
    try {
      const h = staticHandler({ root, statValid: 0 });
      const a = await request(h, "/static/a.txt");
      assert.equal(a.status, 200);
      assert.equal(a.text(), "0123456789");
      assert.match(a.header("content-type") ?? "", /^text\/plain/);
      assert.equal(a.header("content-length"), "10");
      assert.equal((await request(h, "/static/missing.txt")).status, 404);
      assert.equal((await request(h, "/static/.secret")).status, 404);
      const index = await request(h, "/static/docs/");
      assert.equal(index.status, 200);
      assert.equal(index.text(), "<h1>docs</h1>");
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

Deno.test(
  "static (harness): Range gives 206 with Content-Range; an unsatisfiable one 416",
  needs("write"),
  async () => {
    const root = await site();
    try {
      const h = staticHandler({ root, statValid: 0 });
      const part = await request(h, "/static/a.txt", { headers: { range: "bytes=2-4" } });
      assert.equal(part.status, 206);
      assert.equal(part.text(), "234");
      assert.equal(part.header("content-range"), "bytes 2-4/10");
      const bad = await request(h, "/static/a.txt", { headers: { range: "bytes=50-60" } });
      assert.equal(bad.status, 416);
      assert.equal(bad.header("content-range"), "bytes */10");
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

Deno.test(
  "static (harness): If-None-Match with the ETag gives 304 without a body; HEAD has none",
  needs("write"),
  async () => {
    const root = await site();
    try {
      const h = staticHandler({ root, statValid: 0 });
      const first = await request(h, "/static/a.txt");
      const etag = first.header("etag");
      assert.ok(etag !== undefined);
      const again = await request(h, "/static/a.txt", { headers: { "if-none-match": etag } });
      assert.equal(again.status, 304);
      assert.equal(again.body.length, 0);
      const head = await request(h, "/static/a.txt", { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(head.header("content-length"), "10");
      assert.equal(head.body.length, 0);
      const post = await request(h, "/static/a.txt", { method: "POST", body: "x" });
      assert.equal(post.status, 405);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);
