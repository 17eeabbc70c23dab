/**
 * Automatic HTTPS from a config file: a site's `"tls": { "acme": true }` gets certificates for its
 * hosts from the CA (Debian's pebble), with no `--acme-domain`, served by SNI; the CA's flags
 * (`--acme-directory`, `--acme-ca-cert`, `--acme-dir`) still tune it.
 */

import assert from "assert";
import { join } from "node:path";
import { preparePebble } from "../helpers/pebble.ts";
import { startChild } from "../helpers/server.ts";
import { httpPortOf, httpsPortOf, servedSerial } from "./acme_helpers.ts";
import { needs } from "../helpers/needs.ts";

Deno.test(
  "acme from a config: a site's hosts get certificates by SNI, no --acme-domain",
  needs("read", "write", "run"),
  async () => {
    const prepared = await preparePebble();
    const work = await Deno.makeTempDir({ prefix: "ferry-config-acme-" });
    const file = join(work, "ferry.jsonc");
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        listen: { http: "127.0.0.1:0", https: "127.0.0.1:0" },
        sites: [
          { hosts: ["a.test"], tls: { acme: true }, routes: [{ respond: { body: "a" } }] },
          { routes: [{ respond: { body: "other" } }] },
        ],
      }),
    );
    try {
      await using ferry = await startChild([
        "--config",
        file,
        "--cert-dir",
        join(work, "certs"),
        "--acme-dir",
        join(work, "acme"),
        "--acme-directory",
        prepared.directory,
        "--acme-ca-cert",
        prepared.caFile,
      ], 2);
      await using pebble = await prepared.start(httpPortOf(ferry));
      const rootFile = join(work, "pebble-root.pem");
      await Deno.writeTextFile(rootFile, await pebble.root());
      const serial = await servedSerial(httpsPortOf(ferry), "a.test", rootFile);
      assert.ok(serial !== "");
      assert.match(ferry.stdout() + ferry.stderr(), /a\.test/);
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
);
