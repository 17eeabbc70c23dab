/**
 * The process metrics with ferry started as users start it (the start task's permissions, no
 * /proc): resident memory, CPU time and the open-file limit are reported; what only /proc tells is
 * left out, and the start-up log says so once.
 */

import assert from "assert";
import { startChild } from "../helpers/server.ts";
import { ferryShell } from "../helpers/start_flags.ts";
import { parseUlimit } from "../../src/process_probe.ts";
import { tlsSocketBudget } from "../../src/tls/budget.ts";
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
    assert.equal(value(body, "process_open_fds"), undefined);
    const notes = child.stdout().match(/^ferry: note: .*$/gm) ?? [];
    assert.equal(notes.length, 1, child.stdout());
    assert.match(notes[0]!, /process_open_fds.*--allow-all/);
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

Deno.test("process metrics: ulimit output and the TLS budget it gives", () => {
  assert.equal(parseUlimit("1024\n"), 1024);
  assert.equal(parseUlimit("unlimited\n"), Infinity);
  assert.equal(parseUlimit("sh: bad"), undefined);
  assert.equal(tlsSocketBudget(256), 64);
  assert.equal(tlsSocketBudget(20), 16);
  assert.equal(tlsSocketBudget(undefined), 4096);
  assert.equal(tlsSocketBudget(Infinity), 4096);
});
