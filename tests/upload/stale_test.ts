/**
 * Temporary upload files after a crash, with ferry started as users start it (the start task's
 * permissions, where /proc cannot be read): a `kill -9` mid-upload leaves the file, and the next
 * start removes it, while a file that a live upload holds stays.
 */

import assert from "assert";
import { join } from "path";
import { RawClient } from "../helpers/client.ts";
import { startChild, until } from "../helpers/server.ts";
import { needs } from "../helpers/needs.ts";

const AUTH = { FERRY_AUTH_USER: "u", FERRY_AUTH_PASS: "p" };
const BASIC = `Authorization: Basic ${btoa("u:p")}\r\n`;

function temps(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.startsWith(".ferry-upload-"));
}

Deno.test(
  "stale uploads: after kill -9 mid-upload, the next start removes the temporary file",
  needs("read", "write", "run"),
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      const args = ["--port", "0", "--no-https", "--log-format", "none", "--upload-dir", dir];
      const first = await startChild(args, 1, undefined, AUTH);
      const port = Number(new URL(first.urls[0]).port);
      const c = await RawClient.connect(port);
      await c.send(
        `PUT /uploads/big.bin HTTP/1.1\r\nHost: t\r\n${BASIC}Content-Length: 100000\r\n\r\npartial`,
      );
      await until(() => temps(dir).length === 1, "the upload's temporary file");
      const crashed = temps(dir)[0];
      first.child.kill("SIGKILL");
      await first.status;
      c.close();
      assert.deepEqual(temps(dir), [crashed], "kill -9 leaves the file");
      // Another process's upload in progress: its file is held locked and must stay.
      const live = join(dir, `.ferry-upload-1-${crypto.randomUUID()}.tmp`);
      using held = await Deno.open(live, { write: true, createNew: true });
      await held.lock(true);

      await using second = await startChild(args, 1, undefined, AUTH);
      const res = await fetch(`${second.urls[0]}uploads/after.txt`, {
        method: "PUT",
        headers: { authorization: `Basic ${btoa("u:p")}` },
        body: "after",
      });
      assert.equal(res.status, 201, await res.text());
      // The sweep runs before the first write is served.
      assert.deepEqual(temps(dir), [live.slice(dir.length + 1)]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
