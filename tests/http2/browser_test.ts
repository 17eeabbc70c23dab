/**
 * Chromium loads the sample page over HTTP/2: the page, its stylesheet, script, text file and
 * the video's Range requests all travel on one connection whose `nextHopProtocol` is `h2`.
 */

import assert from "assert";
import { launchChromium } from "../helpers/browser.ts";
import { ROOT, startServer } from "../helpers/server.ts";
import { makeSelfSigned } from "../../src/tls/cert.ts";
import { needs } from "../helpers/needs.ts";

Deno.test({
  ...needs("read", "write", "run", "env"),
  name: "h2 browser: Chromium loads the sample page, its assets and the video over one h2 connection",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using s = await startServer({
      https: true,
      httpsPort: 0,
      tlsMaterial: await makeSelfSigned(),
      root: `${ROOT}static`,
      logFormat: "json",
    });
    const browser = await launchChromium(["--autoplay-policy=no-user-gesture-required"]);
    try {
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await context.newPage();
      const videoStatuses: number[] = [];
      page.on("response", (r) => {
        if (r.url().endsWith("/sample.mp4")) videoStatuses.push(r.status());
      });
      const response = await page.goto(`https://localhost:${s.httpsPort}/static/index.html`);
      assert.equal(response?.status(), 200);
      await page.waitForFunction(`document.documentElement.dataset.scriptRan === "yes"`, null, {
        timeout: 10000,
      });
      await page.waitForFunction(
        `document.getElementById("hello").textContent.startsWith("Hello from ferry")`,
        null,
        {
          timeout: 10000,
        },
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
      assert.ok(protocols.length >= 4, protocols.join(","));
      assert.deepEqual([...new Set(protocols)], ["h2"]);
      assert.ok(videoStatuses.includes(206), `video responses: ${videoStatuses.join(",")}`);
      await s.server.log.flush();
      const lines = s.logs.text.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l))
        .filter((l) => l.target !== undefined);
      assert.ok(lines.length >= 4);
      assert.deepEqual([...new Set(lines.map((l) => l.protocol))], ["HTTP/2"]);
      assert.deepEqual([...new Set(lines.map((l) => l.conn))].length, 1, "one connection");
      assert.equal(s.server.stats.h2Connections, 1);
      await context.close();
    } finally {
      await browser.close();
    }
  },
});
