/**
 * The process metrics with ferry started as users start it (the start task's permissions, no
 * /proc): resident memory, CPU time, the open-file limit and the open descriptors (counted by a
 * child, at most once a second) are reported; what only /proc tells is left out, and the start-up
 * log says so once.
 */

import assert from "assert";
import { startChild } from "../helpers/server.ts";
import { ferryShell } from "../helpers/start_flags.ts";
import { parseUlimit } from "../../src/process_probe.ts";
import { tlsSocketBudget } from "../../src/tls/budget.ts";
import { OpenFds } from "../../src/metrics/open_fds.ts";
import { needs } from "../helpers/needs.ts";

function value(body: string, name: string): number | undefined {
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(body);
  return m === null ? undefined : Number(m[1]);
}

Deno.test(
  "process metrics: reported under the start task's permissions, the gaps named at start",
  needs("read", "run"),
  async () => {
    await using child = await startChild(["--port", "0", "--no-https", "--log-format", "none"]);
    const body = await (await fetch(`${child.urls[0]}_metrics?format=prometheus`)).text();
    const rss = value(body, "process_resident_memory_bytes");
    assert.ok(rss !== undefined && rss > 10 * 1024 * 1024 && rss < 4 * 1024 ** 3, `rss ${rss}`);
    assert.ok((value(body, "process_cpu_seconds_total") ?? 0) > 0, body);
    assert.ok((value(body, "process_max_fds") ?? 0) >= 64, body);
    assert.ok((value(body, "process_start_time_seconds") ?? 0) > 1.7e9, body);
    const fds = value(body, "process_open_fds");
    assert.ok(fds !== undefined && fds >= 3 && fds < (value(body, "process_max_fds") ?? 0), body);
    // 20 keep-alive connections more are 20 descriptors more, in the next count (a second on).
    const conns = await Promise.all(
      Array.from(
        { length: 20 },
        () => Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(child.urls[0]).port) }),
      ),
    );
    const count = async () =>
      value(await (await fetch(`${child.urls[0]}_metrics?format=prometheus`)).text(), "process_open_fds")!;
    let more = fds;
    try {
      // Polls for the next count (a second on), at most 40 times: it waits on the count, not on a time.
      for (let tries = 0; tries < 40 && more < fds + 20; tries++) {
        await new Promise((r) => setTimeout(r, 250));
        more = await count();
      }
    } finally {
      for (const c of conns) c.close();
    }
    // The 20 are the difference between the count with them and the count once they are closed
    // (a descriptor of start-up that closed meanwhile may have been in the first count).
    let after = more;
    for (let tries = 0; tries < 40 && after > more - 20; tries++) {
      await new Promise((r) => setTimeout(r, 250));
      after = await count();
    }
    assert.ok(
      more - after >= 20,
      `${fds} descriptors, ${more} with 20 connections more, ${after} after them`,
    );
    const notes = child.stdout().match(/^ferry: note: .*$/gm) ?? [];
    assert.equal(notes.length, 1, child.stdout());
    assert.match(notes[0]!, /process_virtual_memory_bytes.*--allow-all/);
  },
);

Deno.test(
  "process metrics: the open-file limit is the one ferry runs under (ulimit -n 300)",
  needs("read", "run"),
  async () => {
    const child = new Deno.Command("bash", {
      args: [
        "-c",
        `ulimit -n 300 && exec ${ferryShell(["--port", "0", "--no-https", "--log-format", "none"])}`,
      ],
      stdout: "piped",
      stderr: "null",
      stdin: "null",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    try {
      while (!/listening on (\S+)/.test(out)) {
        const { value: v, done } = await reader.read();
        if (done) break;
        out += v;
      }
      const url = /listening on (\S+)/.exec(out)![1];
      const body = await (await fetch(`${url}_metrics?format=prometheus`)).text();
      assert.equal(value(body, "process_max_fds"), 300, body);
    } finally {
      child.kill("SIGKILL");
      reader.releaseLock();
      await child.stdout.cancel().catch(() => {});
      await child.status;
    }
  },
);

Deno.test("process metrics: open descriptors are counted at most once a second; scrapes meanwhile share it", async () => {
  let n = 40;
  const fds = new OpenFds(() => Promise.resolve(n++));
  await Promise.all([fds.refresh(1_000), fds.refresh(1_000)]);
  assert.deepEqual([fds.value, fds.counts], [40, 1], "two scrapes at once: one count");
  await fds.refresh(1_999);
  assert.deepEqual([fds.value, fds.counts], [40, 1], "within the second: the last count");
  await fds.refresh(2_000);
  assert.deepEqual([fds.value, fds.counts], [41, 2]);
});

Deno.test("process metrics: ulimit output and the TLS budget it gives", () => {
  assert.equal(parseUlimit("1024\n"), 1024);
  assert.equal(parseUlimit("unlimited\n"), Infinity);
  assert.equal(parseUlimit("sh: bad"), undefined);
  assert.equal(tlsSocketBudget(256), 64);
  assert.equal(tlsSocketBudget(20), 16);
  assert.equal(tlsSocketBudget(undefined), 4096);
  assert.equal(tlsSocketBudget(Infinity), 4096);
});
