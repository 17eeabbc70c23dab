/**
 * Python responses stream, with ferry started as users start it (main.ts under the start task's
 * permissions, real Python workers): each piece the app yields, and each write(), reaches the
 * client before the app goes on. By order, not time: the app waits for a file the test creates
 * only once it has received the first piece.
 */

import assert from "assert";
import { join } from "path";
import { RawClient } from "../../helpers/client.ts";
import { APPS, PYTHON } from "../../helpers/python.ts";
import { startChild } from "../../helpers/server.ts";
import { needs } from "../../helpers/needs.ts";

const ARGS = [
  "--port",
  "0",
  "--no-https",
  "--log-format",
  "none",
  "--wsgi-python",
  PYTHON,
  "--wsgi-chdir",
  APPS,
];

/** Reads from `c` until `want` has arrived; fails after a guard (the piece never came). */
async function readUntil(conn: Deno.Conn, got: { text: string }, want: string): Promise<void> {
  const buf = new Uint8Array(4096);
  const dec = new TextDecoder();
  const guard = setTimeout(() => conn.close(), 20000);
  try {
    while (!got.text.includes(want)) {
      const n = await conn.read(buf);
      if (n === null) throw new Error(`the connection ended before ${JSON.stringify(want)}: ${got.text}`);
      got.text += dec.decode(buf.subarray(0, n), { stream: true });
    }
  } catch (e) {
    throw new Error(`${JSON.stringify(want)} never arrived (got ${JSON.stringify(got.text)}): ${e}`);
  } finally {
    clearTimeout(guard);
  }
}

for (const route of ["yielded", "written"]) {
  Deno.test(
    `python streaming: a ${route} piece reaches the client before the app goes on`,
    needs("read", "write", "run"),
    async () => {
      const dir = await Deno.makeTempDir();
      try {
        await using child = await startChild([...ARGS, "--wsgi", "stepped_apps:app"]);
        const port = Number(new URL(child.urls[0]).port);
        const go = join(dir, "go");
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        try {
          await conn.write(new TextEncoder().encode(`GET /${route}?go=${go} HTTP/1.1\r\nHost: t\r\n\r\n`));
          const got = { text: "" };
          await readUntil(conn, got, "first piece\n");
          assert.ok(!got.text.includes("second piece"));
          await Deno.writeTextFile(go, "");
          await readUntil(conn, got, "second piece\n");
          await readUntil(conn, got, "0\r\n\r\n");
          assert.match(got.text, /^HTTP\/1\.1 200 /);
        } finally {
          conn.close();
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}

Deno.test(
  "python streaming: a streamed response arrives whole and in order",
  needs("read", "write", "run"),
  async () => {
    await using child = await startChild([...ARGS, "--wsgi", "plain_apps:app"]);
    const port = Number(new URL(child.urls[0]).port);
    await using c = await RawClient.connect(port);
    await c.send("GET /stream HTTP/1.1\r\nHost: t\r\n\r\n");
    const res = await c.response();
    assert.equal(new TextDecoder().decode(res.body), [0, 1, 2, 3, 4].map((i) => `part ${i}\n`).join(""));
  },
);

Deno.test(
  "python streaming: frames that arrive together leave in one write (a list body: one read)",
  needs("read", "write", "run"),
  async () => {
    await using child = await startChild([...ARGS, "--wsgi", "plain_apps:app", "--wsgi-workers", "1"]);
    const port = Number(new URL(child.urls[0]).port);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      // /input returns a one-item list and no Content-Length: HEAD, DATA and END come in one write
      // from the worker, and ferry answers with the head, the chunk and the last chunk in one write.
      await conn.write(
        new TextEncoder().encode("POST /input HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"),
      );
      const buf = new Uint8Array(65536);
      const n = await conn.read(buf);
      const first = new TextDecoder().decode(buf.subarray(0, n ?? 0));
      assert.match(first, /^HTTP\/1\.1 200 /);
      assert.match(first, /transfer-encoding: chunked/i);
      assert.ok(
        first.endsWith("0\r\n\r\n"),
        `the first read ended before the response did: ${JSON.stringify(first)}`,
      );
    } finally {
      conn.close();
    }
  },
);
