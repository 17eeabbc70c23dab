/**
 * The static module over real sockets: methods, every traversal form, dotfiles, directories,
 * headers, every precondition combination of RFC 9110 §13.2.2, every Range form with If-Range,
 * gzip and brotli (on the fly and from sidecars), the cache's revalidation, byte-exact large
 * files, flat memory under a slow reader, and the `/` prefix falling through to the app.
 */

import assert from "assert";
import zlib from "zlib";
import { exchange, header, RawClient, type RawResponse, text } from "../helpers/client.ts";
import { rssOf, startChild, startServer } from "../helpers/server.ts";
import { etagFor } from "../../src/static/serve_static.ts";
import { needs } from "../helpers/needs.ts";
import { appJs, big, brSidecar, gzSidecar, largeText, page, root } from "../helpers/static_site.ts";

const H = "Host: t\r\n";
function serve(extra: Parameters<typeof startServer>[0] = {}) {
  return startServer({ root, ...extra });
}

async function get(port: number, target: string, headers = "", method = "GET"): Promise<RawResponse> {
  return await exchange(
    port,
    `${method} ${target} HTTP/1.1\r\n${H}${headers}Connection: close\r\n\r\n`,
    method,
  );
}

Deno.test(
  "static: methods: GET, HEAD, OPTIONS 204 with Allow, others 405 with Allow",
  needs("read", "write", "run"),
  async () => {
    await using s = await serve();
    const g = await get(s.port, "/static/a.txt");
    assert.equal(g.status, 200);
    assert.equal(text(g), "hello static\n");
    const h = await get(s.port, "/static/a.txt", "", "HEAD");
    assert.equal(h.status, 200);
    assert.equal(header(h, "content-length"), "13");
    assert.equal(header(h, "etag"), header(g, "etag"));
    const o = await get(s.port, "/static/a.txt", "", "OPTIONS");
    assert.equal(o.status, 204);
    assert.equal(header(o, "allow"), "GET, HEAD, OPTIONS");
    const p = await exchange(s.port, `POST /static/a.txt HTTP/1.1\r\n${H}Content-Length: 0\r\n\r\n`);
    assert.equal(p.status, 405);
    assert.equal(header(p, "allow"), "GET, HEAD, OPTIONS");
  },
);

Deno.test(
  "static: traversal in every form is refused and nothing outside the root is served",
  needs("read", "write", "run"),
  async () => {
    await using s = await serve();
    const cases: Array<[string, number]> = [
      ["/static/../a.txt", 400],
      ["/static/sub/../../etc/passwd", 400],
      ["/static/%2e%2e/etc/passwd", 400],
      ["/static/%2E%2E%2Fetc%2Fpasswd", 400],
      ["/static/sub%2f..%2f..%2fetc%2fpasswd", 400],
      ["/static/..%5c..%5cetc%5cpasswd", 400],
      ["/static/a.txt%00.html", 400],
      ["/static/%c0%ae%c0%ae/etc/passwd", 400], // overlong UTF-8 for "."
      ["/static/%zz", 400],
      ["/static/./a.txt", 400],
      ["/static/escape.txt", 404], // symlink to a file outside
      ["/static/escape-dir/secret.txt", 404], // symlink to a directory outside
    ];
    for (const [target, status] of cases) {
      const res = await get(s.port, target);
      assert.equal(res.status, status, target);
      assert.doesNotMatch(text(res), /outside the root|root:x:0/, target);
    }
    // Double encoding decodes once: it names a file called "%2e%2e", not a parent directory.
    const once = await get(s.port, "/static/%252e%252e");
    assert.equal(text(once), "a file literally named %2e%2e");
    // A symlink that stays inside the root is fine.
    assert.equal(text(await get(s.port, "/static/link-inside.txt")), "inner");
    // Percent-encoded UTF-8 names work.
    assert.equal(text(await get(s.port, "/static/sp%20ace%20%C3%A9.txt")), "spaced");
  },
);

Deno.test("static: dotfiles are 404 unless allowed", needs("read", "write", "run"), async () => {
  {
    await using s = await serve();
    assert.equal((await get(s.port, "/static/.secret")).status, 404);
  }
  await using s = await serve({ dotfiles: "allow" });
  assert.equal(text(await get(s.port, "/static/.secret")), "dotfile");
});

Deno.test(
  "static: directories: 301 to the slash (query kept), index.html, listings only when asked",
  needs("read", "write", "run"),
  async () => {
    await using s = await serve();
    const r = await get(s.port, "/static/sub?x=1");
    assert.equal(r.status, 301);
    assert.equal(header(r, "location"), "/static/sub/?x=1");
    assert.equal(text(await get(s.port, "/static/sub/")), "<p>sub index</p>");
    assert.equal((await get(s.port, "/static/list/")).status, 404);
    const bare = await get(s.port, "/static");
    assert.equal(bare.status, 301);
    assert.equal(header(bare, "location"), "/static/");

    await using l = await serve({ dirListing: true });
    const listing = await get(l.port, "/static/list/");
    assert.equal(listing.status, 200);
    assert.match(text(listing), /&lt;script&gt;x\.txt/);
    assert.doesNotMatch(text(listing), /<script>/);
    assert.match(text(listing), /href="%3Cscript%3Ex\.txt"/);
  },
);

Deno.test(
  "static: headers: type with charset, octet-stream when unknown, nosniff, strong ETag, Last-Modified, Cache-Control",
  needs("read", "write", "run"),
  async () => {
    await using s = await serve({ cacheControl: "public, max-age=60" });
    const res = await get(s.port, "/static/page.html");
    const st = await Deno.stat(`${root}/page.html`);
    assert.equal(header(res, "content-type"), "text/html; charset=utf-8");
    assert.equal(header(res, "x-content-type-options"), "nosniff");
    assert.equal(header(res, "etag"), etagFor(st.size, st.mtime!.getTime()));
    assert.ok(!header(res, "etag")!.startsWith("W/"));
    assert.equal(
      header(res, "last-modified"),
      new Date(Math.floor(st.mtime!.getTime() / 1000) * 1000).toUTCString(),
    );
    assert.equal(header(res, "accept-ranges"), "bytes");
    assert.equal(header(res, "cache-control"), "public, max-age=60");
    assert.equal(header(res, "vary"), "Accept-Encoding");
    assert.equal(
      header(await get(s.port, "/static/data.unknownext"), "content-type"),
      "application/octet-stream",
    );
    assert.equal(header(await get(s.port, "/static/big.bin"), "vary"), undefined, "binary: nothing varies");
  },
);

Deno.test("static: preconditions in RFC 9110 §13.2.2 order", needs("read", "write", "run"), async () => {
  await using s = await serve({ cacheControl: "no-cache" });
  const first = await get(s.port, "/static/a.txt");
  const etag = header(first, "etag")!;
  const lm = header(first, "last-modified")!;
  const past = "Sat, 01 Jan 2000 00:00:00 GMT";
  const future = "Fri, 01 Jan 2100 00:00:00 GMT";
  const table: Array<[string, string, number]> = [
    ["If-Match matching", `If-Match: ${etag}\r\n`, 200],
    ["If-Match in a list", `If-Match: "x", ${etag}\r\n`, 200],
    ["If-Match *", `If-Match: *\r\n`, 200],
    ["If-Match other", `If-Match: "other"\r\n`, 412],
    ["If-Match weak (strong comparison fails)", `If-Match: W/${etag}\r\n`, 412],
    ["If-Unmodified-Since past", `If-Unmodified-Since: ${past}\r\n`, 412],
    ["If-Unmodified-Since future", `If-Unmodified-Since: ${future}\r\n`, 200],
    ["If-Unmodified-Since = Last-Modified", `If-Unmodified-Since: ${lm}\r\n`, 200],
    ["If-Unmodified-Since invalid (ignored)", `If-Unmodified-Since: yesterday\r\n`, 200],
    ["If-Match wins over If-Unmodified-Since", `If-Match: ${etag}\r\nIf-Unmodified-Since: ${past}\r\n`, 200],
    ["If-None-Match matching", `If-None-Match: ${etag}\r\n`, 304],
    ["If-None-Match weak matches weakly", `If-None-Match: W/${etag}\r\n`, 304],
    ["If-None-Match list", `If-None-Match: "a", "b", ${etag}\r\n`, 304],
    ["If-None-Match *", `If-None-Match: *\r\n`, 304],
    ["If-None-Match other", `If-None-Match: "other"\r\n`, 200],
    ["If-Modified-Since = Last-Modified", `If-Modified-Since: ${lm}\r\n`, 304],
    ["If-Modified-Since future", `If-Modified-Since: ${future}\r\n`, 304],
    ["If-Modified-Since past", `If-Modified-Since: ${past}\r\n`, 200],
    ["If-Modified-Since invalid (ignored)", `If-Modified-Since: soon\r\n`, 200],
    [
      "If-None-Match other beats If-Modified-Since",
      `If-None-Match: "other"\r\nIf-Modified-Since: ${lm}\r\n`,
      200,
    ],
    ["If-Match failing beats If-None-Match", `If-Match: "other"\r\nIf-None-Match: ${etag}\r\n`, 412],
    [
      "If-Unmodified-Since failing beats If-None-Match",
      `If-Unmodified-Since: ${past}\r\nIf-None-Match: ${etag}\r\n`,
      412,
    ],
    ["If-Match passing then If-None-Match matching", `If-Match: ${etag}\r\nIf-None-Match: ${etag}\r\n`, 304],
  ];
  for (const [name, headers, status] of table) {
    const res = await get(s.port, "/static/a.txt", headers);
    assert.equal(res.status, status, name);
    if (status === 304) {
      assert.equal(res.body.length, 0);
      assert.equal(header(res, "etag"), etag, `${name}: 304 keeps ETag`);
      assert.equal(header(res, "last-modified"), lm, `${name}: 304 keeps Last-Modified`);
      assert.equal(header(res, "cache-control"), "no-cache", `${name}: 304 keeps Cache-Control`);
      assert.equal(header(res, "content-type"), undefined, `${name}: 304 carries no representation metadata`);
    }
  }
  const head = await get(s.port, "/static/a.txt", `If-None-Match: ${etag}\r\n`, "HEAD");
  assert.equal(head.status, 304);
  const vary = await get(
    s.port,
    "/static/page.html",
    `If-None-Match: ${header(await get(s.port, "/static/page.html"), "etag")}\r\n`,
  );
  assert.equal(vary.status, 304);
  assert.equal(header(vary, "vary"), "Accept-Encoding", "304 keeps Vary");
});

function parts(res: RawResponse): Array<{ range: string; body: Uint8Array }> {
  const boundary = /boundary=(\S+)/.exec(header(res, "content-type") ?? "")![1];
  const raw = res.body;
  const out: Array<{ range: string; body: Uint8Array }> = [];
  const latin = Array.from(raw, (b) => String.fromCharCode(b)).join("");
  const pieces = latin.split(`--${boundary}`);
  for (const piece of pieces.slice(1)) {
    if (piece.startsWith("--")) break;
    const headEnd = piece.indexOf("\r\n\r\n");
    const head = piece.slice(0, headEnd);
    let body = piece.slice(headEnd + 4);
    if (body.endsWith("\r\n")) body = body.slice(0, -2);
    out.push({
      range: /Content-Range: (.*)/.exec(head)![1].trim(),
      body: Uint8Array.from(body, (c) => c.charCodeAt(0)),
    });
  }
  return out;
}

Deno.test(
  "static: ranges: single, suffix, open, clipped, unsatisfiable, malformed, other units",
  needs("read", "write", "run"),
  async () => {
    await using s = await serve();
    const size = big.length;
    const check = async (range: string, start: number, end: number) => {
      const res = await get(s.port, "/static/big.bin", `Range: ${range}\r\n`);
      assert.equal(res.status, 206, range);
      assert.equal(header(res, "content-range"), `bytes ${start}-${end}/${size}`, range);
      assert.equal(header(res, "content-length"), String(end - start + 1));
      assert.deepEqual(res.body, big.subarray(start, end + 1), range);
    };
    await check("bytes=0-9", 0, 9);
    await check("bytes=-10", size - 10, size - 1);
    await check("bytes=3000000-", 3000000, size - 1);
    await check("bytes=100-99999999", 100, size - 1);
    await check("bytes=0-10,5-20", 0, 20); // overlap coalesced into one part
    const oneMiB = await get(s.port, "/static/big.bin", `Range: bytes=1048576-2097151\r\n`);
    assert.deepEqual(oneMiB.body, big.subarray(1048576, 2097152), "a 1 MiB range is byte-exact");

    const unsat = await get(s.port, "/static/big.bin", `Range: bytes=${size}-\r\n`);
    assert.equal(unsat.status, 416);
    assert.equal(header(unsat, "content-range"), `bytes */${size}`);
    for (const bad of ["bytes=abc", "bytes=5-1", "bytes", "items=0-1"]) {
      const res = await get(s.port, "/static/a.txt", `Range: ${bad}\r\n`);
      assert.equal(res.status, 200, bad);
      assert.equal(text(res), "hello static\n");
    }
    const whole = await get(s.port, "/static/big.bin");
    assert.deepEqual(whole.body, big, "the 3 MB file is byte-exact");
  },
);

Deno.test(
  "static: multipart/byteranges, and the whole file when ranges are too many or too wasteful",
  needs("read", "write", "run"),
  async () => {
    await using s = await serve();
    const res = await get(s.port, "/static/big.bin", "Range: bytes=0-4,100-109,-3\r\n");
    assert.equal(res.status, 206);
    assert.match(header(res, "content-type") ?? "", /^multipart\/byteranges; boundary=/);
    assert.equal(Number(header(res, "content-length")), res.body.length);
    const got = parts(res);
    assert.deepEqual(got.map((p) => p.range), [
      `bytes 0-4/${big.length}`,
      `bytes 100-109/${big.length}`,
      `bytes ${big.length - 3}-${big.length - 1}/${big.length}`,
    ]);
    assert.deepEqual(got[0].body, big.subarray(0, 5));
    assert.deepEqual(got[1].body, big.subarray(100, 110));
    assert.deepEqual(got[2].body, big.subarray(big.length - 3));

    const many = Array.from({ length: 20 }, (_, i) => `${i * 10}-${i * 10 + 1}`).join(",");
    const tooMany = await get(s.port, "/static/big.bin", `Range: bytes=${many}\r\n`);
    assert.equal(tooMany.status, 200);
    const wasteful = await get(s.port, "/static/big.bin", `Range: bytes=0-1999999,2000001-\r\n`);
    assert.equal(wasteful.status, 200);
    assert.equal(wasteful.body.length, big.length);
  },
);

Deno.test("static: If-Range decides between 206 and 200", needs("read", "write", "run"), async () => {
  await using s = await serve();
  const first = await get(s.port, "/static/big.bin");
  const etag = header(first, "etag")!;
  const lm = header(first, "last-modified")!;
  const cases: Array<[string, number]> = [
    [`If-Range: ${etag}\r\n`, 206],
    [`If-Range: "stale"\r\n`, 200],
    [`If-Range: W/${etag}\r\n`, 200], // weak tags never match here
    [`If-Range: ${lm}\r\n`, 206],
    [`If-Range: Sat, 01 Jan 2000 00:00:00 GMT\r\n`, 200],
  ];
  for (const [h, status] of cases) {
    const res = await get(s.port, "/static/big.bin", `Range: bytes=0-9\r\n${h}`);
    assert.equal(res.status, status, h);
    assert.equal(res.body.length, status === 206 ? 10 : big.length);
  }
});

Deno.test(
  "static: gzip and brotli by q-value decompress to the file; ETag per coding; 206 never compressed",
  needs("read", "write", "run"),
  async () => {
    await using s = await serve();
    const br = await get(s.port, "/static/page.html", "Accept-Encoding: gzip, deflate, br\r\n");
    assert.equal(header(br, "content-encoding"), "br");
    assert.equal(new TextDecoder().decode(zlib.brotliDecompressSync(br.body)), page);
    const gz = await get(s.port, "/static/page.html", "Accept-Encoding: gzip;q=1, br;q=0.5\r\n");
    assert.equal(header(gz, "content-encoding"), "gzip");
    assert.equal(new TextDecoder().decode(zlib.gunzipSync(gz.body)), page);
    const plain = await get(s.port, "/static/page.html", "Accept-Encoding: br;q=0, gzip;q=0\r\n");
    assert.equal(header(plain, "content-encoding"), undefined);
    assert.equal(text(plain), page);
    const none = await get(s.port, "/static/page.html");
    assert.equal(header(none, "content-encoding"), undefined);
    const tags = new Set([header(br, "etag"), header(gz, "etag"), header(plain, "etag")]);
    assert.equal(tags.size, 3, "each coding has its own ETag");
    for (const r of [br, gz, plain]) assert.equal(header(r, "vary"), "Accept-Encoding");
    // Revalidation is per coding.
    const again = await get(
      s.port,
      "/static/page.html",
      `Accept-Encoding: br\r\nIf-None-Match: ${header(br, "etag")}\r\n`,
    );
    assert.equal(again.status, 304);
    const ranged = await get(
      s.port,
      "/static/page.html",
      "Accept-Encoding: br, gzip\r\nRange: bytes=0-14\r\n",
    );
    assert.equal(ranged.status, 206);
    assert.equal(header(ranged, "content-encoding"), undefined);
    assert.equal(text(ranged), page.slice(0, 15));
    // Small files are not worth it; binary types are never compressed.
    assert.equal(
      header(await get(s.port, "/static/a.txt", "Accept-Encoding: br\r\n"), "content-encoding"),
      undefined,
    );
    assert.equal(
      header(await get(s.port, "/static/big.bin", "Accept-Encoding: br\r\n"), "content-encoding"),
      undefined,
    );
  },
);

Deno.test(
  "static: a large compressible file is compressed while it streams",
  needs("read", "write", "run"),
  async () => {
    await using s = await serve();
    for (const coding of ["gzip", "br"]) {
      const res = await get(s.port, "/static/large.txt", `Accept-Encoding: ${coding}\r\n`);
      assert.equal(header(res, "content-encoding"), coding);
      assert.equal(header(res, "transfer-encoding"), "chunked");
      const out = coding === "gzip" ? zlib.gunzipSync(res.body) : zlib.brotliDecompressSync(res.body);
      assert.equal(new TextDecoder().decode(out), largeText);
    }
  },
);

Deno.test(
  "static: precompressed sidecars are sent as they are, unless older than the file",
  needs("read", "write", "run"),
  async () => {
    await using s = await serve();
    const gz = await get(s.port, "/static/app.js", "Accept-Encoding: gzip\r\n");
    assert.equal(header(gz, "content-encoding"), "gzip");
    assert.deepEqual(gz.body, new Uint8Array(gzSidecar), "the .gz file itself");
    const br = await get(s.port, "/static/app.js", "Accept-Encoding: br\r\n");
    assert.deepEqual(br.body, new Uint8Array(brSidecar), "the .br file itself");
    assert.equal(header(br, "content-type"), "text/javascript; charset=utf-8");

    // An older sidecar is stale: compress on the fly instead.
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/x.js`, appJs);
      await Deno.writeFile(`${dir}/x.js.gz`, zlib.gzipSync(new TextEncoder().encode("stale")));
      await Deno.utime(`${dir}/x.js.gz`, new Date(2000, 0, 1), new Date(2000, 0, 1));
      await using t = await startServer({ root: dir });
      const res = await get(t.port, "/static/x.js", "Accept-Encoding: gzip\r\n");
      assert.equal(new TextDecoder().decode(zlib.gunzipSync(res.body)), appJs);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "static: the cache is revalidated by stat: with --file-cache-valid 0 a changed file is never stale",
  needs("read", "write", "run"),
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/c.txt`, "version one");
      await using s = await startServer({ root: dir, fileCacheValid: 0 });
      assert.equal(text(await get(s.port, "/static/c.txt")), "version one");
      assert.equal(text(await get(s.port, "/static/c.txt")), "version one");
      await Deno.writeTextFile(`${dir}/c.txt`, "version two, longer");
      assert.equal(text(await get(s.port, "/static/c.txt")), "version two, longer");
      await Deno.remove(`${dir}/c.txt`);
      assert.equal((await get(s.port, "/static/c.txt")).status, 404);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "static: within --file-cache-valid the stat is trusted; after it, the change is seen",
  needs("read", "write", "run"),
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/c.txt`, "version one");
      await using long = await startServer({ root: dir, fileCacheValid: 3600 });
      await using short = await startServer({ root: dir }); // the default, 1 s
      assert.equal(text(await get(long.port, "/static/c.txt")), "version one");
      assert.equal(text(await get(short.port, "/static/c.txt")), "version one");
      await Deno.writeTextFile(`${dir}/c.txt`, "version two, longer");
      // The hour-long window serves the version its stat describes, whole and consistent.
      const stale = await get(long.port, "/static/c.txt");
      assert.equal(text(stale), "version one");
      assert.equal(stale.headers.find(([n]) => n === "content-length")?.[1], "11");
      // The default window passes, and the new version is served.
      const give = Date.now() + 10000; // a guard against hanging, not a timing assertion
      while (text(await get(short.port, "/static/c.txt")) !== "version two, longer") {
        assert.ok(Date.now() < give, "the change is seen once the window has passed");
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "static: a cached file served a moment ago still weighs Range, preconditions and Accept-Encoding",
  needs("read", "write", "run"),
  async () => {
    // The second request for a small file inside the stat window is answered from caches; every
    // request with something to weigh must still get the full path's answer.
    await using s = await serve();
    const first = await get(s.port, "/static/page.html");
    assert.equal(first.status, 200);
    const etag = header(first, "etag")!;
    const ranged = await get(s.port, "/static/page.html", "Range: bytes=0-9\r\n");
    assert.equal(ranged.status, 206);
    assert.equal(header(ranged, "content-range"), `bytes 0-9/${new TextEncoder().encode(page).length}`);
    assert.equal(text(ranged), page.slice(0, 10));
    const fresh = await get(s.port, "/static/page.html", `If-None-Match: ${etag}\r\n`);
    assert.equal(fresh.status, 304);
    const gz = await get(s.port, "/static/page.html", "Accept-Encoding: gzip\r\n");
    assert.equal(header(gz, "content-encoding"), "gzip");
    assert.equal(new TextDecoder().decode(zlib.gunzipSync(gz.body)), page);
    const again = await get(s.port, "/static/page.html");
    assert.equal(again.status, 200);
    assert.equal(text(again), page);
    const head = await get(s.port, "/static/page.html", "", "HEAD");
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(header(head, "content-length"), String(new TextEncoder().encode(page).length));
  },
);

Deno.test(
  "static: a slow reader does not make the server hold the file in memory",
  needs("read", "write", "run"),
  async () => {
    const dir = await Deno.makeTempDir();
    const size = 96 * 1024 * 1024;
    try {
      {
        using f = await Deno.open(`${dir}/huge.bin`, { write: true, create: true });
        const block = new Uint8Array(1024 * 1024).fill(7);
        for (let i = 0; i < size / block.length; i++) await f.write(block);
      }
      // The server runs in its own process, so its memory is measured alone.
      await using child = await startChild([
        "--port",
        "0",
        "--no-https",
        "--root",
        dir,
        "--log-format",
        "none",
      ]);
      const port = Number(new URL(child.urls[0]).port);
      await exchange(port, `GET /static/ HTTP/1.1\r\n${H}\r\n`); // warm up
      const before = await rssOf(child.child.pid);
      await using c = await RawClient.connect(port);
      await c.send(`GET /static/huge.bin HTTP/1.1\r\n${H}\r\n`);
      // Read nothing for a while: the socket buffers fill and the server must wait, not read ahead.
      await new Promise((r) => setTimeout(r, 500));
      const grown = (await rssOf(child.child.pid)) - before;
      assert.ok(
        grown < 32 * 1024 * 1024,
        `server memory grew by ${(grown / 1048576).toFixed(1)} MiB for a 96 MiB file`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "static: with --static-prefix /, files are served at the root and the rest falls through to the app",
  needs("read", "write", "run"),
  async () => {
    await using s = await serve({ staticPrefix: "/" });
    assert.equal(text(await get(s.port, "/a.txt")), "hello static\n");
    assert.equal(text(await get(s.port, "/hello")), "Hello, World!", "not a file: the app answers");
    const post = await exchange(s.port, `POST /submit HTTP/1.1\r\n${H}Content-Length: 2\r\n\r\nok`);
    assert.equal(text(post), "ok", "other methods go to the app");
  },
);

Deno.test("static: the sample site is served", needs("read", "write", "run"), async () => {
  await using s = await startServer();
  const index = await get(s.port, "/static/index.html");
  assert.match(text(index), /<video id="sample" src="sample.mp4"/);
  assert.equal(
    header(await get(s.port, "/static/sample.mp4", "Range: bytes=0-1\r\n"), "content-type"),
    "video/mp4",
  );
  assert.equal(
    header(await get(s.port, "/static/script.js"), "content-type"),
    "text/javascript; charset=utf-8",
  );
});

Deno.test(
  "static: a listing shows size and time, sorts by name, size or time, directories first",
  needs("read", "write", "run"),
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/b-small.txt`, "x");
      await Deno.writeFile(`${dir}/a-large.bin`, new Uint8Array(3 * 1024 * 1024));
      await Deno.mkdir(`${dir}/z-dir`);
      await Deno.utime(
        `${dir}/b-small.txt`,
        new Date("2020-01-02T03:04:00Z"),
        new Date("2020-01-02T03:04:00Z"),
      );
      await using s = await startServer({ root: dir, dirListing: true });
      const names = (html: string) =>
        [...html.matchAll(/<tr><td><a href="[^"]+">([^<]+)<\/a>/g)].map((m) => m[1]);
      const byName = text(await get(s.port, "/static/"));
      assert.deepEqual(names(byName), ["z-dir/", "a-large.bin", "b-small.txt"]);
      assert.match(byName, /<td class="n">3\.0 MiB<\/td>/);
      assert.match(byName, /<td class="n">1 B<\/td><td class="n">2020-01-02 03:04 UTC<\/td>/);
      assert.match(byName, /<style>/);
      assert.doesNotMatch(byName, /https?:\/\//, "nothing from elsewhere");
      assert.deepEqual(names(text(await get(s.port, "/static/?sort=size&order=desc"))), [
        "z-dir/",
        "a-large.bin",
        "b-small.txt",
      ]);
      assert.deepEqual(names(text(await get(s.port, "/static/?sort=size"))), [
        "z-dir/",
        "b-small.txt",
        "a-large.bin",
      ]);
      assert.deepEqual(names(text(await get(s.port, "/static/?sort=modified"))), [
        "z-dir/",
        "b-small.txt",
        "a-large.bin",
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "static: errors are a small HTML page for a browser, plain text for everyone else",
  needs("read", "write", "run"),
  async () => {
    await using s = await serve();
    assert.equal(
      (await get(s.port, "/static/a.txt")).status,
      200,
      "the site is there: a 404 below means missing",
    );
    const browser = "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n";
    const page = await get(s.port, "/static/missing.txt", browser);
    assert.equal(page.status, 404);
    assert.equal(header(page, "content-type"), "text/html; charset=utf-8");
    assert.match(text(page), /<title>404 Not Found<\/title>/);
    const plain = await get(s.port, "/static/missing.txt", "Accept: */*\r\n");
    assert.equal(header(plain, "content-type"), "text/plain; charset=utf-8");
    assert.equal(text(plain), "Not Found\n");
    const none = await get(s.port, "/static/missing.txt");
    assert.equal(text(none), "Not Found\n");
    const method = await get(s.port, "/static/a.txt", browser, "DELETE");
    assert.equal(method.status, 405);
    assert.match(text(method), /<h1>405 Method Not Allowed<\/h1>/);
    assert.equal(header(method, "allow"), "GET, HEAD, OPTIONS");
    const big = await exchange(
      s.port,
      `POST /hello HTTP/1.1\r\n${H}${browser}Content-Length: 999999999999\r\n\r\n`,
    );
    assert.equal(big.status, 413);
    assert.match(text(big), /<h1>413 Content Too Large<\/h1>[\s\S]*request body is larger than/);
  },
);
