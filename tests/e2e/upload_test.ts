/**
 * Uploads over real sockets: each status, authentication (wrong, missing, malformed, non-ASCII,
 * unset, throttled), large and chunked bodies byte-exact, aborted uploads leaving nothing behind,
 * concurrent POSTs and PUTs, traversal attempts, symlinks, and active types as attachments.
 */

import assert from "assert";
import { bytes, concat, exchange, header, RawClient, type RawResponse, text } from "../helpers/client.ts";
import { rssOf, startChild, startServer, until } from "../helpers/server.ts";
import { needs } from "../helpers/needs.ts";

const H = "Host: t\r\n";
const USER = "jürgen";
const PASS = "pässwörd ✓";

/** Basic credentials, UTF-8 encoded (RFC 7617 with charset=UTF-8). */
function basic(user: string, pass: string): string {
  const b = new TextEncoder().encode(`${user}:${pass}`);
  return "Basic " + btoa(String.fromCharCode(...b));
}
const AUTH = `Authorization: ${basic(USER, PASS)}\r\n`;

async function withUploads(
  fn: (port: number, dir: string, s: Awaited<ReturnType<typeof startServer>>) => Promise<void>,
  extra: Parameters<typeof startServer>[0] = {},
) {
  const dir = await Deno.makeTempDir({ prefix: "ferry-uploads-" });
  try {
    await using s = await startServer({ uploadDir: dir, authUser: USER, authPass: PASS, ...extra });
    await fn(s.port, dir, s);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function put(
  port: number,
  path: string,
  body: string | Uint8Array,
  auth = AUTH,
  method = "PUT",
): Promise<RawResponse> {
  const b = typeof body === "string" ? bytes(body) : body;
  return exchange(
    port,
    concat([bytes(`${method} ${path} HTTP/1.1\r\n${H}${auth}Content-Length: ${b.length}\r\n\r\n`), b]),
  );
}

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

Deno.test(
  "uploads: PUT creates (201, Location), replaces (204), creates parents; GET reads back",
  needs("read", "write", "run"),
  async () => {
    await withUploads(async (port, dir) => {
      const created = await put(port, "/uploads/docs/a%20b.txt", "first");
      assert.equal(created.status, 201);
      assert.equal(header(created, "location"), "/uploads/docs/a%20b.txt");
      assert.equal(await Deno.readTextFile(`${dir}/docs/a b.txt`), "first");
      const replaced = await put(port, "/uploads/docs/a%20b.txt", "second");
      assert.equal(replaced.status, 204);
      assert.equal(await Deno.readTextFile(`${dir}/docs/a b.txt`), "second");
      const back = await exchange(port, `GET /uploads/docs/a%20b.txt HTTP/1.1\r\n${H}\r\n`);
      assert.equal(text(back), "second");
      assert.ok(header(back, "etag"), "static semantics for reads");
      assert.equal(
        header(
          await exchange(port, `HEAD /uploads/docs/a%20b.txt HTTP/1.1\r\n${H}\r\n`, "HEAD"),
          "content-length",
        ),
        "6",
      );
    });
  },
);

Deno.test(
  "uploads: POST never overwrites: name(1).ext, name(2).ext",
  needs("read", "write", "run"),
  async () => {
    await withUploads(async (port, dir) => {
      const names = [];
      for (let i = 0; i < 3; i++) {
        const res = await put(port, "/uploads/photo.jpg", `v${i}`, AUTH, "POST");
        assert.equal(res.status, 201);
        names.push(header(res, "location"));
      }
      assert.deepEqual(names, ["/uploads/photo.jpg", "/uploads/photo(1).jpg", "/uploads/photo(2).jpg"]);
      assert.equal(await Deno.readTextFile(`${dir}/photo.jpg`), "v0");
      assert.equal(await Deno.readTextFile(`${dir}/photo(2).jpg`), "v2");
    });
  },
);

Deno.test("uploads: DELETE → 204, then 404", needs("read", "write", "run"), async () => {
  await withUploads(async (port, dir) => {
    await put(port, "/uploads/gone.txt", "x");
    const del = await exchange(port, `DELETE /uploads/gone.txt HTTP/1.1\r\n${H}${AUTH}\r\n`);
    assert.equal(del.status, 204);
    assert.deepEqual(await files(dir), []);
    const again = await exchange(port, `DELETE /uploads/gone.txt HTTP/1.1\r\n${H}${AUTH}\r\n`);
    assert.equal(again.status, 404);
  });
});

Deno.test(
  "uploads: authentication: wrong, missing, malformed → 401 with the challenge; non-ASCII works",
  needs("read", "write", "run"),
  async () => {
    await withUploads(async (port, dir, s) => {
      const cases = [
        ["missing", ""],
        ["wrong password", `Authorization: ${basic(USER, "nope")}\r\n`],
        ["wrong user", `Authorization: ${basic("jurgen", PASS)}\r\n`],
        ["not base64", "Authorization: Basic !!!\r\n"],
        ["no colon", `Authorization: Basic ${btoa("justuser")}\r\n`],
        ["other scheme", "Authorization: Bearer abc\r\n"],
        [
          "latin1 instead of UTF-8",
          `Authorization: Basic ${btoa("j\xfcrgen:p\xe4ssw\xf6rd \u2713".replace("\u2713", "?"))}\r\n`,
        ],
      ];
      for (const [name, auth] of cases) {
        const res = await put(port, "/uploads/x.txt", "data", auth);
        assert.equal(res.status, 401, name);
        assert.equal(header(res, "www-authenticate"), 'Basic realm="ferry", charset="UTF-8"', name);
        // The throttle would kick in after five failures; a success in between resets it.
        if (name === "not base64") assert.equal((await put(port, "/uploads/ok.txt", "fine")).status, 201);
      }
      assert.equal(s.server.stats.authFailures, cases.length);
      assert.deepEqual(await files(dir), ["ok.txt"], "nothing written by failed attempts");
    });
  },
);

Deno.test(
  "uploads: repeated failures from one address get 429 with Retry-After",
  needs("read", "write", "run"),
  async () => {
    await withUploads(async (port) => {
      const bad = `Authorization: ${basic(USER, "guess")}\r\n`;
      for (let i = 0; i < 5; i++) assert.equal((await put(port, "/uploads/x", "d", bad)).status, 401);
      const limited = await put(port, "/uploads/x", "d", bad);
      assert.equal(limited.status, 429);
      assert.match(header(limited, "retry-after") ?? "", /^\d+$/);
      // Even the right password waits out the block.
      assert.equal((await put(port, "/uploads/x", "d")).status, 429);
    });
  },
);

Deno.test(
  "uploads: without FERRY_AUTH_USER/PASS every write is 403",
  needs("read", "write", "run"),
  async () => {
    await withUploads(async (port, dir) => {
      const res = await put(port, "/uploads/x.txt", "data");
      assert.equal(res.status, 403);
      assert.match(text(res), /FERRY_AUTH_USER/);
      assert.deepEqual(await files(dir), []);
    }, { authUser: "", authPass: "" });
  },
);

Deno.test(
  "uploads: no length → 411; declared over --max-upload-bytes → 413 before a byte is written",
  needs("read", "write", "run"),
  async () => {
    await withUploads(async (port, dir) => {
      const none = await exchange(port, `PUT /uploads/x HTTP/1.1\r\n${H}${AUTH}\r\n`);
      assert.equal(none.status, 411);
      await using c = await RawClient.connect(port);
      await c.send(`PUT /uploads/big HTTP/1.1\r\n${H}${AUTH}Content-Length: 1025\r\n\r\n`);
      const res = await c.response();
      assert.equal(res.status, 413);
      assert.deepEqual(await files(dir), []);
      // The app's smaller limit does not apply to uploads.
      assert.equal((await put(port, "/uploads/fits", "x".repeat(1000))).status, 201);
    }, { maxUploadBytes: 1024, maxBodyBytes: 10 });
  },
);

Deno.test(
  "uploads: a chunked body over the limit → 413 and nothing kept",
  needs("read", "write", "run"),
  async () => {
    await withUploads(async (port, dir) => {
      const chunk = `100\r\n${"z".repeat(256)}\r\n`;
      const res = await exchange(
        port,
        `PUT /uploads/c.txt HTTP/1.1\r\n${H}${AUTH}Transfer-Encoding: chunked\r\n\r\n${
          chunk.repeat(5)
        }0\r\n\r\n`,
      );
      assert.equal(res.status, 413);
      assert.deepEqual(await files(dir), []);
    }, { maxUploadBytes: 1024 });
  },
);

Deno.test(
  "uploads: a 20 MB PUT and a chunked PUT are stored byte-exact",
  needs("read", "write", "run"),
  async () => {
    await withUploads(async (port, dir) => {
      const data = new Uint8Array(20 * 1024 * 1024);
      for (let i = 0; i < data.length; i += 4096) data.set(crypto.getRandomValues(new Uint8Array(4096)), i);
      await using c = await RawClient.connect(port);
      const [res] = await Promise.all([
        c.response(),
        c.send(
          concat([
            bytes(`PUT /uploads/big.bin HTTP/1.1\r\n${H}${AUTH}Content-Length: ${data.length}\r\n\r\n`),
            data,
          ]),
        ),
      ]);
      assert.equal(res.status, 201);
      assert.deepEqual(await Deno.readFile(`${dir}/big.bin`), data);

      const chunked = await exchange(
        port,
        `PUT /uploads/ch.txt HTTP/1.1\r\n${H}${AUTH}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n`,
      );
      assert.equal(chunked.status, 201);
      assert.equal(await Deno.readTextFile(`${dir}/ch.txt`), "hello world");
    });
  },
);

Deno.test(
  "uploads: an aborted PUT leaves the old file intact, no partial file, no temporary",
  needs("read", "write", "run"),
  async () => {
    await withUploads(async (port, dir, s) => {
      await put(port, "/uploads/keep.txt", "the old content");
      const c = await RawClient.connect(port);
      await c.send(`PUT /uploads/keep.txt HTTP/1.1\r\n${H}${AUTH}Content-Length: 1000000\r\n\r\n`);
      await c.send("x".repeat(300_000));
      await until(() => s.server.stats.requestsTotal === 2, "the second request to start");
      c.close();
      await until(() => s.server.connectionCount === 0, "the aborted connection to end");
      // The temporary file is removed once the handler has unwound.
      await until(() => Deno.readDirSync(dir).toArray().length === 1, "only the old file to remain");
      assert.deepEqual(await files(dir), ["keep.txt"]);
      assert.equal(await Deno.readTextFile(`${dir}/keep.txt`), "the old content");
    });
  },
);

Deno.test(
  "uploads: 10 concurrent POSTs to one name → 10 distinct complete files",
  needs("read", "write", "run"),
  async () => {
    await withUploads(async (port, dir) => {
      const bodies = Array.from({ length: 10 }, (_, i) => `body number ${i} `.repeat(5000));
      const results = await Promise.all(bodies.map((b) => put(port, "/uploads/same.txt", b, AUTH, "POST")));
      assert.ok(results.every((r) => r.status === 201));
      const locations = new Set(results.map((r) => header(r, "location")));
      assert.equal(locations.size, 10);
      const stored = await files(dir);
      assert.equal(stored.length, 10, stored.join(","));
      const contents = new Set(await Promise.all(stored.map((f) => Deno.readTextFile(`${dir}/${f}`))));
      assert.deepEqual([...contents].sort(), [...bodies].sort(), "each body complete, none mixed");
    });
  },
);

Deno.test(
  "uploads: concurrent PUTs to one path end with exactly one complete body",
  needs("read", "write", "run"),
  async () => {
    await withUploads(async (port, dir) => {
      const bodies = Array.from({ length: 8 }, (_, i) => String.fromCharCode(65 + i).repeat(300_000));
      const results = await Promise.all(bodies.map((b) => put(port, "/uploads/one.txt", b)));
      assert.ok(results.every((r) => r.status === 201 || r.status === 204));
      const final = await Deno.readTextFile(`${dir}/one.txt`);
      assert.ok(bodies.includes(final), "the file is one of the bodies, whole");
      assert.deepEqual(await files(dir), ["one.txt"], "no temporaries left");
    });
  },
);

Deno.test(
  "uploads: traversal and hidden names are refused; symlinks are never followed for writes",
  needs("read", "write", "run"),
  async () => {
    const outside = await Deno.makeTempDir({ prefix: "ferry-outside-" });
    try {
      await withUploads(async (port, dir) => {
        await Deno.symlink(outside, `${dir}/link`);
        for (
          const path of [
            "/uploads/../evil.txt",
            "/uploads/%2e%2e/evil.txt",
            "/uploads/a%2f..%2f..%2fevil.txt",
            "/uploads/..%5cevil.txt",
            "/uploads/evil%00.txt",
            "/uploads/.hidden",
            "/uploads/dir/.git/config",
            "/uploads/link/evil.txt",
            "/uploads/link",
            "/uploads/",
          ]
        ) {
          const res = await put(port, path, "evil");
          assert.equal(res.status, 400, path);
        }
        assert.deepEqual(await files(outside), [], "nothing written outside");
        assert.deepEqual(await files(dir), ["link"]);
      });
    } finally {
      await Deno.remove(outside, { recursive: true });
    }
  },
);

Deno.test(
  "uploads: active types come back as attachments with nosniff; plain text inline",
  needs("read", "write", "run"),
  async () => {
    await withUploads(async (port) => {
      await put(port, "/uploads/page.html", "<script>alert(1)</script>");
      await put(
        port,
        "/uploads/pic.svg",
        "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
      );
      await put(port, "/uploads/notes.txt", "just text");
      for (const name of ["page.html", "pic.svg"]) {
        const res = await exchange(port, `GET /uploads/${name} HTTP/1.1\r\n${H}\r\n`);
        assert.match(header(res, "content-disposition") ?? "", /^attachment; filename\*=UTF-8''/, name);
        assert.equal(header(res, "x-content-type-options"), "nosniff");
        assert.match(header(res, "content-security-policy") ?? "", /sandbox/);
      }
      const txt = await exchange(port, `GET /uploads/notes.txt HTTP/1.1\r\n${H}\r\n`);
      assert.equal(header(txt, "content-disposition"), undefined);
    });
  },
);

Deno.test(
  "uploads: memory stays flat while a large body streams to disk",
  needs("read", "write", "run"),
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "ferry-uploads-" });
    try {
      // The server runs in its own process, so its memory is measured alone.
      await using child = await startChild(
        ["--port", "0", "--no-https", "--upload-dir", dir, "--log-format", "none"],
        1,
        undefined,
        { FERRY_AUTH_USER: USER, FERRY_AUTH_PASS: PASS },
      );
      const port = Number(new URL(child.urls[0]).port);
      assert.equal((await put(port, "/uploads/warm.txt", "warm")).status, 201);
      const size = 96 * 1024 * 1024;
      const block = new Uint8Array(1024 * 1024).fill(42);
      await using c = await RawClient.connect(port);
      const before = await rssOf(child.child.pid);
      let peak = 0;
      await c.send(`PUT /uploads/huge.bin HTTP/1.1\r\n${H}${AUTH}Content-Length: ${size}\r\n\r\n`);
      for (let i = 0; i < size / block.length; i++) {
        await c.send(block);
        if (i % 8 === 0) peak = Math.max(peak, (await rssOf(child.child.pid)) - before);
      }
      assert.equal((await c.response()).status, 201);
      assert.equal((await Deno.stat(`${dir}/huge.bin`)).size, size);
      assert.ok(
        peak < 48 * 1024 * 1024,
        `server memory grew by ${(peak / 1048576).toFixed(1)} MiB for a 96 MiB upload`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
