/**
 * zstd for static files (`src/static/compress.ts`, `serve_static.ts`): `Accept-Encoding: zstd`
 * gets zstd, preferred over brotli and gzip at equal q, for small cached files and large ones
 * compressed on the fly; a `.zst` sidecar is served as `.br` and `.gz` ones are. Bodies are
 * decoded on the client side with `node:zlib` and the `zstd` command.
 */

import assert from "assert";
import { join } from "node:path";
import zlib from "node:zlib";
import { request } from "../../src/http/harness.ts";
import { staticHandler } from "../../src/static/serve_static.ts";
import { needs } from "../helpers/needs.ts";

async function fixture(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "ferry-zstd-" });
  await Deno.writeTextFile(join(dir, "small.txt"), "ferry ".repeat(2000)); // 12 KB: cached, compressed whole
  await Deno.writeTextFile(join(dir, "large.txt"), "zstd ".repeat(200_000)); // 1 MB: on the fly
  await Deno.writeTextFile(join(dir, "side.js"), "let x = 1;\n".repeat(500));
  // A sidecar the server cannot have made: its bytes prove it was the one sent.
  await Deno.writeFile(join(dir, "side.js.zst"), zlib.zstdCompressSync(new TextEncoder().encode("SIDECAR")));
  return dir;
}

Deno.test(
  "static zstd: preferred at equal q, small and large files, decoded by node:zlib and zstd(1)",
  needs("read", "write", "run"),
  async () => {
    const dir = await fixture();
    try {
      const files = staticHandler({ root: dir, prefix: "/" });
      for (const name of ["small.txt", "large.txt"]) {
        const res = await request(files, `/${name}`, { headers: { "accept-encoding": "gzip, br, zstd" } });
        assert.equal(res.status, 200);
        assert.equal(res.header("content-encoding"), "zstd", name);
        assert.match(res.header("etag")!, /-zstd"$/);
        const plain = await Deno.readTextFile(join(dir, name));
        assert.equal(new TextDecoder().decode(zlib.zstdDecompressSync(res.body)), plain);
        const cmd = new Deno.Command("zstd", { args: ["-dc"], stdin: "piped", stdout: "piped" }).spawn();
        const w = cmd.stdin.getWriter();
        await w.write(res.body);
        await w.close();
        assert.equal(
          new TextDecoder().decode((await cmd.output()).stdout),
          plain,
          `${name} by the zstd command`,
        );
      }
      const br = await request(files, "/small.txt", { headers: { "accept-encoding": "zstd;q=0.5, br" } });
      assert.equal(br.header("content-encoding"), "br", "q-values still decide");
      const gz = await request(files, "/small.txt", { headers: { "accept-encoding": "gzip" } });
      assert.equal(gz.header("content-encoding"), "gzip");
      const side = await request(files, "/side.js", { headers: { "accept-encoding": "zstd" } });
      assert.equal(side.header("content-encoding"), "zstd");
      assert.equal(
        new TextDecoder().decode(zlib.zstdDecompressSync(side.body)),
        "SIDECAR",
        "the .zst sidecar",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
