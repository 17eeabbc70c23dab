/**
 * The site the static module's socket tests serve: files of every kind (a 3 MiB binary, pages,
 * sidecars, dotfiles, odd names, symlinks in and out of the root) in a temporary root, written
 * only when the run may write (see needs.ts), removed when the test module ends.
 *
 * @module
 */

import zlib from "zlib";
import { missing } from "./needs.ts";

// The fixture files, written only when this run may write (see needs.ts).
const FILES = missing("read", "write").length === 0;
/** The site root. */
export const root = FILES ? await Deno.makeTempDir({ prefix: "ferry-static-" }) : "";
/** A folder outside the root (symlink targets). */
export const outside = FILES ? await Deno.makeTempDir({ prefix: "ferry-outside-" }) : "";
// The shared site is removed when the module's tests are done (not by a test of its own, which
// asserted nothing and left the tests after it running against a deleted root).
globalThis.addEventListener("unload", () => {
  if (!FILES) return;
  Deno.removeSync(root, { recursive: true });
  Deno.removeSync(outside, { recursive: true });
});

/** A 3 MiB binary, in a pattern. */
export const big = new Uint8Array(3 * 1024 * 1024);
/** An HTML page. */
export const page = "<!doctype html><title>page</title>\n" + "<p>ferry serves pages</p>\n".repeat(200);
/** A script with .gz and .br sidecars. */
export const appJs = "console.log('sidecars');\n".repeat(100);
/** About 650 KB of compressible text. */
export const largeText = "a line of compressible text for streaming compression\n".repeat(12000); // ~650 KB

/** app.js, gzipped. */
export const gzSidecar = zlib.gzipSync(new TextEncoder().encode(appJs), { level: 1 });
/** app.js, brotli-compressed. */
export const brSidecar = zlib.brotliCompressSync(new TextEncoder().encode(appJs));
if (FILES) {
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 9) * 7) & 0xff;
  await Deno.writeTextFile(`${root}/a.txt`, "hello static\n");
  await Deno.writeFile(`${root}/big.bin`, big);
  await Deno.writeTextFile(`${root}/page.html`, page);
  await Deno.writeTextFile(`${root}/large.txt`, largeText);
  await Deno.writeTextFile(`${root}/data.unknownext`, "??");
  await Deno.writeTextFile(`${root}/.secret`, "dotfile");
  await Deno.mkdir(`${root}/sub`);
  await Deno.writeTextFile(`${root}/sub/index.html`, "<p>sub index</p>");
  await Deno.mkdir(`${root}/list`);
  await Deno.writeTextFile(`${root}/list/<script>x.txt`, "x");
  await Deno.writeTextFile(`${root}/list/plain.txt`, "p");
  await Deno.writeTextFile(`${root}/sp ace é.txt`, "spaced");
  await Deno.writeTextFile(`${root}/%2e%2e`, "a file literally named %2e%2e");
  await Deno.writeTextFile(`${root}/app.js`, appJs);
  await Deno.writeFile(`${root}/app.js.gz`, gzSidecar);
  await Deno.writeFile(`${root}/app.js.br`, brSidecar);
  await Deno.writeTextFile(`${outside}/secret.txt`, "outside the root");
  await Deno.symlink(`${outside}/secret.txt`, `${root}/escape.txt`);
  await Deno.symlink(outside, `${root}/escape-dir`);
  await Deno.writeTextFile(`${root}/inner.txt`, "inner");
  await Deno.symlink(`${root}/inner.txt`, `${root}/link-inside.txt`);
}
