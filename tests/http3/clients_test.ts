/**
 * HTTP/3 with an independent client: Debian's ngtcp2 client (`gtlsclient`, ngtcp2 + nghttp3) for
 * GET, HEAD, a POST body, 404, a 10 MB file and 50 concurrent streams on one connection; the
 * access log's protocol, the counters, and Alt-Svc on the TCP listener that points to it.
 * (gtlsclient cannot send custom fields: Range and conditional requests are in modules_test.ts
 * with the test client, and in the browser test.)
 */

import assert from "assert";
import { startServer, until } from "../helpers/server.ts";
import { needsQuic } from "./needs_quic.ts";
import { makeSelfSigned } from "../../src/tls/cert.ts";

const material = await makeSelfSigned();
const dec = new TextDecoder();

/** Runs gtlsclient against `port` for `paths` (one connection); returns its output and the downloads. */
async function gtls(
  port: number,
  paths: string[],
  opts: { method?: string; data?: string; quiet?: boolean } = {},
): Promise<{ out: string; files: Map<string, Uint8Array>; statuses: string[] }> {
  const dir = await Deno.makeTempDir();
  const args = [
    "--sni=localhost",
    "--exit-on-all-streams-close",
    `--download=${dir}`,
    "--no-quic-dump",
    "--timeout=20s",
  ];
  // Its debug output (every packet) slows a large transfer to a crawl: -q, and no statuses then.
  if (opts.quiet) args.push("-q");
  if (opts.method) args.push("-m", opts.method);
  if (opts.data) args.push("-d", opts.data);
  args.push("127.0.0.1", String(port), ...paths.map((p) => `https://localhost:${port}${p}`));
  const o = await new Deno.Command("gtlsclient", { args, stdout: "piped", stderr: "piped" }).output();
  const out = dec.decode(o.stdout) + dec.decode(o.stderr);
  const files = new Map<string, Uint8Array>();
  for (const e of Deno.readDirSync(dir)) files.set(e.name, Deno.readFileSync(`${dir}/${e.name}`));
  await Deno.remove(dir, { recursive: true });
  const statuses = [...out.matchAll(/\[:status: (\d+)\]/g)].map((m) => m[1]);
  return { out, files, statuses };
}

Deno.test(
  "h3 gtlsclient: GET, HEAD, 404; the access log says HTTP/3; Alt-Svc points TCP clients to it",
  needsQuic("read", "write", "run"),
  async () => {
    await using s = await startServer({
      https: true,
      httpsPort: 0,
      tlsMaterial: material,
      http3: true,
      logFormat: "json",
    });
    const get = await gtls(s.httpsPort, ["/static/hello.txt", "/static/missing.txt"]);
    assert.deepEqual(get.statuses.sort(), ["200", "404"], get.out.slice(-2000));
    assert.deepEqual(get.files.get("hello.txt"), await Deno.readFile("static/hello.txt"));
    const head = await gtls(s.httpsPort, ["/static/index.html"], { method: "HEAD" });
    assert.deepEqual(head.statuses, ["200"]);
    assert.match(head.out, /\[content-length: 1042\]/);
    assert.equal(head.files.get("index.html")?.length ?? 0, 0);
    // The TCP listener's responses name the UDP port.
    const tcp = await fetch(`https://localhost:${s.httpsPort}/static/hello.txt`, {
      client: Deno.createHttpClient({ caCerts: [material.cert] }),
    });
    await tcp.body?.cancel();
    assert.equal(tcp.headers.get("alt-svc"), `h3=":${s.httpsPort}"; ma=86400`);
    const h1 = await new Deno.Command("curl", {
      args: [
        "-sS",
        "--http1.1",
        "-k",
        "-o",
        "/dev/null",
        "-D",
        "-",
        `https://localhost:${s.httpsPort}/static/hello.txt`,
      ],
      stdout: "piped",
    }).output();
    assert.match(dec.decode(h1.stdout), new RegExp(`\r\nalt-svc: h3=":${s.httpsPort}"; ma=86400\r\n`, "i"));
    // Once a name has its own certificate, which the QUIC listener cannot serve, no Alt-Svc.
    await s.server.setCertificate("other.test", material);
    const after = await fetch(`https://localhost:${s.httpsPort}/static/hello.txt`, {
      client: Deno.createHttpClient({ caCerts: [material.cert] }),
    });
    await after.body?.cancel();
    assert.equal(after.status, 200);
    assert.equal(after.headers.get("alt-svc"), null);
    const h3Lines = () =>
      s.logs.text.split("\n").filter((l) => l.includes("/static/") && l.includes('"HTTP/3"'));
    await until(() => h3Lines().length === 3, "three HTTP/3 access lines");
    assert.deepEqual(h3Lines().map((l) => JSON.parse(l).method).sort(), ["GET", "GET", "HEAD"]);
    assert.equal(s.server.stats.h3Connections, 2);
    assert.ok(s.server.stats.h3Streams >= 3);
  },
);

Deno.test(
  "h3 gtlsclient: a POST body reaches the handler whole; the protocol is HTTP/3",
  needsQuic("read", "write", "run"),
  async () => {
    const dir = await Deno.makeTempDir();
    const body = new Uint8Array(300_000).map((_, i) => (i * 7919) >> 3);
    await Deno.writeFile(`${dir}/up.bin`, body);
    await using s = await startServer({
      https: true,
      httpsPort: 0,
      tlsMaterial: material,
      http3: true,
      handler: async (req, res) => {
        const got = await req.body.bytes();
        const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", got.slice()));
        await res.send(
          200,
          [["content-type", "text/plain"]],
          `${req.protocol} ${got.length} ${btoa(String.fromCharCode(...digest))}`,
        );
      },
    });
    const want = btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest("SHA-256", body))));
    const r = await gtls(s.httpsPort, ["/echo"], { method: "POST", data: `${dir}/up.bin` });
    assert.deepEqual(r.statuses, ["200"], r.out.slice(-2000));
    assert.equal(dec.decode(r.files.get("echo")), `HTTP/3 ${body.length} ${want}`);
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test(
  "h3 gtlsclient: a 10 MB file arrives whole, and 50 requests on one connection all succeed",
  needsQuic("read", "write", "run"),
  async () => {
    const dir = await Deno.makeTempDir();
    const big = crypto.getRandomValues(new Uint8Array(65536));
    const file = new Uint8Array(10 * 1024 * 1024);
    for (let i = 0; i < file.length; i += big.length) file.set(big, i);
    file[file.length - 1] ^= 0xff; // the last byte differs from the pattern
    await Deno.writeFile(`${dir}/big.bin`, file);
    for (let i = 0; i < 50; i++) await Deno.writeTextFile(`${dir}/f${i}.txt`, `file ${i}\n`.repeat(i + 1));
    await using s = await startServer({
      https: true,
      httpsPort: 0,
      tlsMaterial: material,
      http3: true,
      root: dir,
    });
    const r = await gtls(s.httpsPort, ["/static/big.bin"], { quiet: true });
    const got = r.files.get("big.bin")!;
    assert.equal(got?.length, file.length, r.out.slice(-2000));
    assert.ok(got.every((b, i) => b === file[i]), "the 10 MB body differs");
    const before = s.server.stats.h3Connections;
    const many = await gtls(s.httpsPort, Array.from({ length: 50 }, (_, i) => `/static/f${i}.txt`));
    assert.equal(many.out.match(/submit request headers/g)?.length, 50, "all 50 sent at once");
    assert.equal(many.statuses.filter((x) => x === "200").length, 50, many.out.slice(-2000));
    for (let i = 0; i < 50; i++) {
      assert.equal(dec.decode(many.files.get(`f${i}.txt`)), `file ${i}\n`.repeat(i + 1));
    }
    assert.equal(s.server.stats.h3Connections, before + 1, "one connection for the 50 streams");
    await Deno.remove(dir, { recursive: true });
  },
);
