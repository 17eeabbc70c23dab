/**
 * The sample site in a real browser: Debian's Chromium, driven by playwright-core, opens
 * https://localhost/static/index.html (self-signed certificate), and the page must render with
 * its stylesheet, run its script, fetch hello.txt, and play the video, whose bytes come in 206
 * responses. A screenshot goes to test-artifacts/ (not committed).
 */

import assert from "assert";
import { launchChromium } from "../helpers/browser.ts";
import { ROOT, startServer } from "../helpers/server.ts";
import { makeSelfSigned } from "../../src/tls/cert.ts";
import { needs } from "../helpers/needs.ts";

Deno.test({
  ...needs("read", "write", "run", "env"),
  name: "browser: the sample page renders, runs its script and plays the video through Range requests",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const tlsMaterial = await makeSelfSigned();
    await using s = await startServer({
      https: true,
      httpsPort: 0,
      tlsMaterial,
      root: `${ROOT}static`,
      logFormat: "json",
    });
    const browser = await launchChromium(["--autoplay-policy=no-user-gesture-required"]);
    try {
      const context = await browser.newContext({
        ignoreHTTPSErrors: true,
        viewport: { width: 1024, height: 900 },
      });
      const page = await context.newPage();
      const videoStatuses: number[] = [];
      page.on("response", (r) => {
        if (r.url().endsWith("/sample.mp4")) videoStatuses.push(r.status());
      });
      const response = await page.goto(`https://localhost:${s.httpsPort}/static/index.html`);
      assert.equal(response?.status(), 200);

      // The stylesheet is applied.
      // (Page-side code is passed as strings: it runs in the browser, not under Deno's types.)
      const bg = await page.evaluate(`getComputedStyle(document.querySelector("header")).backgroundColor`);
      assert.equal(bg, "rgb(29, 111, 165)");
      // The script ran and fetched hello.txt.
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
      // The video has enough data to play, and plays.
      await page.waitForFunction(
        `(() => { const v = document.querySelector("video"); return v.readyState >= 3 && v.currentTime > 0.2 && !v.paused; })()`,
        null,
        { timeout: 20000 },
      );
      const error = await page.evaluate(`document.querySelector("video").error?.message ?? null`);
      assert.equal(error, null);

      // Its bytes came in 206 responses: seen by the browser and in the server's access log.
      assert.ok(videoStatuses.includes(206), `video responses: ${videoStatuses.join(",")}`);
      await s.server.log.flush();
      const videoLines = s.logs.text.split("\n").filter((l) => l.includes("sample.mp4")).map((l) =>
        JSON.parse(l)
      );
      assert.ok(videoLines.some((l) => l.status === 206), "the server answered the video with 206");

      await Deno.mkdir(`${ROOT}test-artifacts`, { recursive: true });
      await page.screenshot({ path: `${ROOT}test-artifacts/sample-site.png`, fullPage: true });
      await context.close();
    } finally {
      await browser.close();
    }
  },
});
