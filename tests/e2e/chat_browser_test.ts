/**
 * examples/chat.ts in Chromium: two pages join the room over WebSockets, a message typed in one
 * appears in both, and a page that leaves is seen to close.
 */

import assert from "assert";
import { launchChromium } from "../helpers/browser.ts";
import { startServer, until } from "../helpers/server.ts";
import { fetchHandler } from "../../src/app/fetch.ts";
import chat from "../../examples/chat.ts";
import { needs } from "../helpers/needs.ts";

Deno.test({
  ...needs("read", "write", "run", "env"),
  name: "chat example: two Chromium pages exchange messages over ferry's WebSockets",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using s = await startServer({ handler: fetchHandler(chat) });
    const browser = await launchChromium();
    try {
      const url = `http://127.0.0.1:${s.port}/`;
      const one = await browser.newPage();
      const two = await browser.newPage();
      await one.goto(url);
      await two.goto(url);
      for (const page of [one, two]) {
        await page.getByText("connected", { exact: true }).waitFor();
      }
      await one.fill("#text", "hello from one");
      await one.click("button");
      await two.fill("#text", "and from two");
      await two.press("#text", "Enter");
      for (const page of [one, two]) {
        await page.locator("#log li:nth-child(2)").waitFor();
        const got = await page.locator("#log li").allTextContents();
        assert.ok(got.some((l) => /^guest \d+: hello from one$/.test(l ?? "")), `${got}`);
        assert.ok(got.some((l) => /^guest \d+: and from two$/.test(l ?? "")), `${got}`);
      }
      assert.equal(s.server.stats.wsOpen, 2);
      await two.close();
      await until(() => s.server.stats.wsOpen === 1, "the closed page's socket closed");
    } finally {
      await browser.close();
    }
  },
});
