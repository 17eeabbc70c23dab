/**
 * The isolate supervisor (`src/isolates.ts`) under `--workers 2`: SIGHUP's "certificate reloaded"
 * is said once every isolate serves the new certificate, on the listener each started with.
 */

import assert from "assert";
import { startChild, until } from "./helpers/server.ts";
import { makeSelfSigned } from "../src/tls/cert.ts";
import { needs } from "./helpers/needs.ts";

/** Whether a TLS client trusting only `ca` completes a handshake. */
async function trusted(port: number, ca: string): Promise<boolean> {
  let conn: Deno.TlsConn | undefined;
  try {
    conn = await Deno.connectTls({ hostname: "localhost", port, caCerts: [ca] });
    await conn.handshake();
    return true;
  } catch {
    return false;
  } finally {
    conn?.close();
  }
}

Deno.test(
  "isolates: SIGHUP says 'certificate reloaded' once every isolate serves the new certificate",
  needs("read", "write", "run"),
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      await using child = await startChild(
        ["--port", "0", "--https-port", "0", "--cert-dir", dir, "--workers", "2", "--log-format", "none"],
        2,
      );
      const port = Number(new URL(child.urls.find((u) => u.startsWith("https"))!).port);
      const old = await Deno.readTextFile(`${dir}/localhost-cert.pem`);
      assert.ok(await trusted(port, old));
      const fresh = await makeSelfSigned();
      await Deno.writeTextFile(`${dir}/localhost-cert.pem`, fresh.cert);
      await Deno.writeTextFile(`${dir}/localhost-key.pem`, fresh.key);
      child.child.kill("SIGHUP");
      await until(() => /certificate reloaded/.test(child.stdout()), "the reload", 10000);
      // Fresh connections, spread over both isolates' listeners by the kernel.
      const results = await Promise.all(Array.from({ length: 20 }, () => trusted(port, fresh.cert)));
      assert.deepEqual(results.filter((ok) => !ok).length, 0, "every connection gets the new certificate");
      assert.equal(await trusted(port, old), false, "the old certificate is gone");
      assert.doesNotMatch(child.stderr(), /reload failed/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
