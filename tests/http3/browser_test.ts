/**
 * Chromium over HTTP/3: with QUIC forced for the origin (`--origin-to-force-quic-on`, and the
 * certificate trusted by its public key's hash, since `--ignore-certificate-errors` does not
 * cover QUIC), the sample page, its assets and the video's Range requests load with a
 * `nextHopProtocol` of `h3`, and the access log says HTTP/3.
 */

import assert from "assert";
import { X509Certificate } from "node:crypto";
import { launchChromium } from "../helpers/browser.ts";
import { ROOT, startServer } from "../helpers/server.ts";
import { makeSelfSigned } from "../../src/tls/cert.ts";
import { needsQuic } from "./needs_quic.ts";

/** Base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo (Chromium's SPKI pin). */
async function spkiHash(pem: string): Promise<string> {
  const spki = new X509Certificate(pem).publicKey.export({ type: "spki", format: "der" });
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(spki)));
  return btoa(String.fromCharCode(...digest));
}

Deno.test({
  ...needsQuic("read", "write", "run", "env"),
  name: "h3 browser: Chromium loads the sample page, its assets and the video over HTTP/3",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const material = await makeSelfSigned();
    await using s = await startServer({
      https: true,
      httpsPort: 0,
      tlsMaterial: material,
      http3: true,
      root: `${ROOT}static`,
      logFormat: "json",
    });
    const origin = `localhost:${s.httpsPort}`;
    const browser = await launchChromium([
      "--enable-quic",
      `--origin-to-force-quic-on=${origin}`,
      `--ignore-certificate-errors-spki-list=${await spkiHash(material.cert)}`,
      // localhost is ::1 first; ferry listens on 127.0.0.1.
      "--host-resolver-rules=MAP localhost 127.0.0.1",
      "--autoplay-policy=no-user-gesture-required",
    ]);
    try {
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await context.newPage();
      const videoStatuses: number[] = [];
      page.on("response", (r) => {
        if (r.url().endsWith("/sample.mp4")) videoStatuses.push(r.status());
      });
      const response = await page.goto(`https://${origin}/static/index.html`);
      assert.equal(response?.status(), 200);
      await page.waitForFunction(`document.documentElement.dataset.scriptRan === "yes"`, null, {
        timeout: 10000,
      });
      await page.waitForFunction(
        `document.getElementById("hello").textContent.startsWith("Hello from ferry")`,
        null,
        { timeout: 10000 },
      );
      await page.waitForFunction(
        `(() => { const v = document.querySelector("video"); return v.readyState >= 3 && v.currentTime > 0.2; })()`,
        null,
        { timeout: 20000 },
      );
      const protocols = await page.evaluate(
        `[performance.getEntriesByType("navigation")[0].nextHopProtocol,
          ...performance.getEntriesByType("resource").map((e) => e.nextHopProtocol)]`,
      ) as string[];
      assert.equal(protocols[0], "h3");
      assert.ok(protocols.length >= 4, protocols.join(","));
      assert.deepEqual([...new Set(protocols)], ["h3"]);
      assert.ok(videoStatuses.includes(206), `video responses: ${videoStatuses.join(",")}`);
      await s.server.log.flush();
      const lines = s.logs.text.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l))
        .filter((l) => l.target !== undefined);
      assert.ok(lines.length >= 4);
      assert.deepEqual([...new Set(lines.map((l) => l.protocol))], ["HTTP/3"]);
      assert.equal(s.server.stats.h3Errors.size, 0, JSON.stringify([...s.server.stats.h3Errors]));
    } finally {
      await browser.close();
    }
  },
});
