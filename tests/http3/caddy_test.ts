/**
 * Caddy 2.6.2 (Debian's `caddy`, HTTP/3 on by default) as the reference: the same files served by
 * both, asked for by the same client (gtlsclient, ngtcp2 + nghttp3) over HTTP/3; statuses, bodies
 * and what a HEAD carries must agree. Skipped, with a line saying so, when caddy is not installed.
 */

import assert from "assert";
import { startServer } from "../helpers/server.ts";
import { makeSelfSigned } from "../../src/tls/cert.ts";
import { needsQuic } from "./needs_quic.ts";

const dec = new TextDecoder();

async function hasCaddy(): Promise<boolean> {
  try {
    return (await new Deno.Command("caddy", { args: ["version"], stdout: "null", stderr: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

/** A free TCP port (Caddy takes the same number on UDP). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** gtlsclient against `port` for `paths`, quiet; the downloads and, with `headers`, the statuses. */
async function gtls(
  port: number,
  paths: string[],
  method = "GET",
): Promise<{ files: Map<string, Uint8Array>; out: string }> {
  const dir = await Deno.makeTempDir();
  const args = [
    "--sni=localhost",
    "--exit-on-all-streams-close",
    `--download=${dir}`,
    "--no-quic-dump",
    "--no-http-dump",
    "--timeout=20s",
    "-m",
    method,
    "127.0.0.1",
    String(port),
    ...paths.map((p) => `https://localhost:${port}${p}`),
  ];
  const o = await new Deno.Command("gtlsclient", { args, stdout: "piped", stderr: "piped" }).output();
  const files = new Map<string, Uint8Array>();
  for (const e of Deno.readDirSync(dir)) files.set(e.name, Deno.readFileSync(`${dir}/${e.name}`));
  await Deno.remove(dir, { recursive: true });
  return { files, out: dec.decode(o.stdout) + dec.decode(o.stderr) };
}

function statuses(out: string): string[] {
  return [...out.matchAll(/\[:status: (\d+)\]/g)].map((m) => m[1]).sort();
}

function field(out: string, name: string): string | undefined {
  return new RegExp(`\\[${name}: ([^\\]]*)\\]`).exec(out)?.[1];
}

const need = needsQuic("read", "write", "run", "env");
const caddyThere = !need.ignore && await hasCaddy();
if (!need.ignore && !caddyThere) {
  console.warn("SKIPPED: tests/http3/caddy_test.ts needs Debian's caddy (apt-get install caddy)");
}

Deno.test(
  "h3 vs Caddy 2.6.2: the same requests over HTTP/3 get the same statuses, bodies and HEAD fields",
  { ignore: need.ignore || !caddyThere },
  async () => {
    const material = await makeSelfSigned();
    const dir = await Deno.makeTempDir();
    const root = `${dir}/root`;
    await Deno.mkdir(`${root}/static`, { recursive: true });
    await Deno.writeTextFile(`${root}/static/hello.txt`, "hello over HTTP/3\n");
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 31) >> 2);
    await Deno.writeFile(`${root}/static/big.bin`, big);
    await Deno.writeTextFile(`${dir}/cert.pem`, material.cert);
    await Deno.writeTextFile(`${dir}/key.pem`, material.key);
    const cport = freePort();
    await Deno.writeTextFile(
      `${dir}/Caddyfile`,
      `{\n\tadmin off\n\tauto_https disable_redirects\n\tskip_install_trust\n\tstorage file_system ${dir}/data\n}\n` +
        `https://localhost:${cport} {\n\tbind 127.0.0.1\n\ttls ${dir}/cert.pem ${dir}/key.pem\n\troot * ${root}\n\tfile_server\n}\n`,
    );
    const caddy = new Deno.Command("caddy", {
      args: ["run", "--config", `${dir}/Caddyfile`, "--adapter", "caddyfile"],
      env: { HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      for (let i = 0;; i++) {
        try {
          (await Deno.connect({ hostname: "127.0.0.1", port: cport })).close();
          break;
        } catch (e) {
          if (i > 200) throw e;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      await using s = await startServer({
        https: true,
        httpsPort: 0,
        tlsMaterial: material,
        http3: true,
        root: `${root}/static`,
      });
      const paths = ["/static/hello.txt", "/static/missing.txt"];
      const [f, c] = [await gtls(s.httpsPort, paths), await gtls(cport, paths)];
      assert.deepEqual(statuses(f.out), ["200", "404"], f.out.slice(-1500));
      assert.deepEqual(statuses(c.out), statuses(f.out), c.out.slice(-1500));
      assert.equal(dec.decode(f.files.get("hello.txt")), "hello over HTTP/3\n");
      assert.deepEqual(f.files.get("hello.txt"), c.files.get("hello.txt"));
      const [fh, ch] = [
        await gtls(s.httpsPort, ["/static/hello.txt"], "HEAD"),
        await gtls(cport, ["/static/hello.txt"], "HEAD"),
      ];
      for (const name of ["content-length", "etag", "last-modified"]) {
        assert.ok(field(fh.out, name) !== undefined && field(ch.out, name) !== undefined, name);
      }
      assert.equal(field(fh.out, "content-length"), field(ch.out, "content-length"));
      assert.equal(fh.files.get("hello.txt")?.length ?? 0, 0);
      const [fb, cb] = [await gtls(s.httpsPort, ["/static/big.bin"]), await gtls(cport, ["/static/big.bin"])];
      assert.equal(fb.files.get("big.bin")?.length, big.length);
      assert.deepEqual(fb.files.get("big.bin"), cb.files.get("big.bin"));
    } finally {
      caddy.kill("SIGTERM");
      await caddy.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
);
