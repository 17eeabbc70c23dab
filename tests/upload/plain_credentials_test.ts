/**
 * Upload credentials over plain HTTP: from another machine they get 403 pointing to HTTPS unless
 * `--insecure-uploads`; from this machine (loopback) and over HTTPS they are checked as usual.
 * Live, with ferry started as users start it, and a client on this machine's non-loopback address
 * (its peer address is then not loopback); the rule's function directly for the addresses a
 * test cannot come from.
 */

import assert from "assert";
import { startChild } from "../helpers/server.ts";
import { presentOrSkip } from "../helpers/skip.ts";
import { credentialsInClear, isLoopback } from "../../src/upload/auth.ts";
import { missing, needs } from "../helpers/needs.ts";

const AUTH = { FERRY_AUTH_USER: "u", FERRY_AUTH_PASS: "p" };

Deno.test("plain credentials: the rule", needs("read", "write", "run", "sys"), () => {
  for (const a of ["127.0.0.1", "127.0.0.2", "127.255.0.9", "::1", "[::1]", "::ffff:127.0.0.1"]) {
    assert.equal(isLoopback(a), true, a);
  }
  for (const a of ["192.0.2.2", "10.0.0.1", "128.0.0.1", "::2", "fd00::2", "::ffff:10.0.0.1", "1270.0.0.1"]) {
    assert.equal(isLoopback(a), false, a);
  }
  assert.equal(credentialsInClear({ secure: false, clientAddr: "203.0.113.9" }), true);
  assert.equal(credentialsInClear({ secure: true, clientAddr: "203.0.113.9" }), false);
  assert.equal(credentialsInClear({ secure: false, clientAddr: "127.0.0.1" }), false);
});

const external = missing("sys").length > 0
  ? undefined
  : Deno.networkInterfaces().find((i) => i.family === "IPv4" && !isLoopback(i.address))?.address;

if (
  presentOrSkip(
    external !== undefined,
    "plain credentials live: this machine has no non-loopback IPv4 address",
  )
) {
  Deno.test(
    "plain credentials: 403 from another address over HTTP, unless --insecure-uploads",
    needs("read", "write", "run", "sys"),
    async () => {
      const dir = await Deno.makeTempDir();
      try {
        const put = (url: string, name: string) =>
          fetch(`${url}uploads/${name}`, {
            method: "PUT",
            headers: { authorization: `Basic ${btoa("u:p")}` },
            body: "x",
          });
        const args = ["--port", "0", "--no-https", "--log-format", "none", "--upload-dir", dir];
        {
          await using child = await startChild(["--host", external!, ...args], 1, undefined, AUTH);
          const res = await put(child.urls[0], "a.txt");
          assert.equal(res.status, 403);
          const body = await res.text();
          assert.match(body, /plain HTTP/);
          assert.match(body, /HTTPS/);
          assert.match(body, /--insecure-uploads/);
        }
        {
          await using child = await startChild(
            ["--host", external!, "--insecure-uploads", ...args],
            1,
            undefined,
            AUTH,
          );
          const res = await put(child.urls[0], "b.txt");
          assert.equal(res.status, 201, await res.text());
        }
        {
          await using child = await startChild(["--host", "127.0.0.1", ...args], 1, undefined, AUTH);
          const res = await put(child.urls[0], "c.txt");
          assert.equal(res.status, 201, await res.text());
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}
