/** Uploads through the in-memory exchange harness: authentication, create, replace, read, delete. */

import assert from "assert";
import { join } from "node:path";
import { request } from "../../src/http/harness.ts";
import { uploadHandler } from "../../src/upload/uploads.ts";
import { Stats } from "../../src/stats.ts";
import { needs } from "../helpers/needs.ts";

const AUTH = { authorization: "Basic " + btoa("alice:secret") };

Deno.test(
  "uploads (harness): no credentials 401 with a challenge; wrong ones 401, counted",
  needs("read", "write"),
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      const stats = new Stats();
      const h = uploadHandler({ dir, user: "alice", pass: "secret", stats });
      const none = await request(h, "/uploads/a.txt", { method: "PUT", body: "hi" });
      assert.equal(none.status, 401);
      assert.match(none.header("www-authenticate") ?? "", /^Basic realm="ferry"/);
      const wrong = await request(h, "/uploads/a.txt", {
        method: "PUT",
        body: "hi",
        headers: { authorization: "Basic " + btoa("alice:nope") },
      });
      assert.equal(wrong.status, 401);
      assert.equal(stats.authFailures, 2);
      await assert.rejects(Deno.stat(join(dir, "a.txt")));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "uploads (harness): PUT creates (201) then replaces (204), GET reads back, DELETE removes",
  needs("read", "write"),
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      const stats = new Stats();
      const h = uploadHandler({ dir, user: "alice", pass: "secret", stats });
      const created = await request(h, "/uploads/notes/a.txt", { method: "PUT", body: "one", headers: AUTH });
      assert.equal(created.status, 201);
      assert.equal(await Deno.readTextFile(join(dir, "notes", "a.txt")), "one");
      const replaced = await request(h, "/uploads/notes/a.txt", {
        method: "PUT",
        body: "two!",
        headers: AUTH,
      });
      assert.equal(replaced.status, 204);
      assert.equal((await request(h, "/uploads/notes/a.txt")).text(), "two!");
      assert.equal(stats.uploadsStored, 2);
      assert.equal(stats.uploadBytes, 7);
      const chunked = await request(h, "/uploads/b.txt", {
        method: "PUT",
        body: "abc",
        chunked: true,
        headers: AUTH,
      });
      assert.equal(chunked.status, 201);
      assert.equal(await Deno.readTextFile(join(dir, "b.txt")), "abc");
      assert.equal(
        (await request(h, "/uploads/notes/a.txt", { method: "DELETE", headers: AUTH })).status,
        204,
      );
      await assert.rejects(Deno.stat(join(dir, "notes", "a.txt")));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
