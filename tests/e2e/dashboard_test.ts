/**
 * `/_dashboard` in a real browser (Debian's Chromium through playwright-core) while load runs:
 * the page loads with nothing from elsewhere, its numbers move as requests arrive, and a
 * screenshot is saved to test-artifacts/. Also: its data endpoint and the allow-list.
 */

import assert from "assert";
import { launchChromium } from "../helpers/browser.ts";
import { exchange } from "../helpers/client.ts";
import { ROOT, startServer } from "../helpers/server.ts";
import { join } from "../helpers/paths.ts";
import { needs } from "../helpers/needs.ts";

const H = "Host: t\r\n";

Deno.test("dashboard: its data has rates' raw counters, by status class and by mount; others are refused", async () => {
  await using s = await startServer({ root: `${ROOT}static` });
  for (let i = 0; i < 3; i++) await exchange(s.port, `GET /hello HTTP/1.1\r\n${H}\r\n`);
  await exchange(s.port, `GET /static/nope HTTP/1.1\r\n${H}\r\n`);
  const data = await (await fetch(`http://127.0.0.1:${s.port}/_dashboard/data`)).json();
  assert.equal(data.responses["2xx"], 3);
  assert.equal(data.responses["4xx"], 1);
  assert.equal(data.mounts.app.count, 3);
  assert.equal(data.mounts.app.buckets.reduce((a: number, b: number) => a + b, 0), 3);
  assert.equal(data.bounds.length + 1, data.mounts.app.buckets.length);
  const page = await fetch(`http://127.0.0.1:${s.port}/_dashboard/`);
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
  assert.doesNotMatch(await page.text(), /(src|href)="https?:/, "nothing from a CDN");
  const redirect = await exchange(s.port, `GET /_dashboard HTTP/1.1\r\n${H}\r\n`);
  assert.equal(redirect.status, 301);
  await using closed = await startServer({ metricsAllow: "10.0.0.0/8" });
  assert.equal((await exchange(closed.port, `GET /_dashboard/ HTTP/1.1\r\n${H}\r\n`)).status, 403);
  assert.equal((await exchange(closed.port, `GET /_dashboard/data HTTP/1.1\r\n${H}\r\n`)).status, 403);
});

Deno.test({
  ...needs("read", "write", "run", "env"),
  name: "dashboard: Chromium shows the numbers moving while load runs, and a screenshot is saved",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using s = await startServer({ root: `${ROOT}static` });
    const browser = await launchChromium();
    let stop = false;
    const load = (async () => {
      while (!stop) {
        await Promise.all([
          exchange(s.port, `GET /hello HTTP/1.1\r\n${H}\r\n`),
          exchange(s.port, `GET /static/hello.txt HTTP/1.1\r\n${H}\r\n`),
          exchange(s.port, `GET /static/missing HTTP/1.1\r\n${H}\r\n`),
        ]);
      }
    })();
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
      const outside: string[] = [];
      page.on("request", (r) => {
        if (!r.url().startsWith(`http://127.0.0.1:${s.port}/`)) outside.push(r.url());
      });
      await page.goto(`http://127.0.0.1:${s.port}/_dashboard/`);
      const total = async () => Number(await page.textContent("#total"));
      const num = async (sel: string) => Number(((await page.textContent(sel)) ?? "").replace(/,/g, ""));
      // Waits (bounded) for a condition on the page; the page's CSP allows no eval, so it is read
      // from here.
      const waitFor = async (what: string, cond: () => Promise<boolean>) => {
        for (let i = 0; i < 200; i++) {
          if (await cond()) return;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`the dashboard never showed ${what}`);
      };
      await waitFor("a total", async () => (await num("#total")) > 0);
      const first = await total();
      // The numbers move: the total grows from poll to poll, and a rate and a latency appear.
      await waitFor("the total growing", async () => (await num("#total")) > first);
      assert.ok((await total()) > first);
      await waitFor("a request rate", async () => (await num("#rate")) > 0);
      await waitFor("a latency", async () => Number.isFinite(await num("#p50")));
      assert.ok(Number(await page.textContent("#conns")) >= 0);
      await page.waitForSelector("#status-4xx");
      assert.match((await page.textContent("#mounts")) ?? "", /app[\s\S]*static/);
      assert.deepEqual(outside, [], "the page loads nothing from elsewhere");
      const dir = join(ROOT, "test-artifacts");
      await Deno.mkdir(dir, { recursive: true });
      await page.screenshot({ path: join(dir, "dashboard.png") });
      assert.ok((await Deno.stat(join(dir, "dashboard.png"))).size > 1000);
    } finally {
      stop = true;
      await load;
      await browser.close();
    }
  },
});
