/**
 * The command line, as a user runs it: start-up lines, flag errors, `deno task start` passing
 * flags through, and SIGTERM draining to exit 0.
 */

import assert from "assert";
import { exchange, header, RawClient, text } from "../helpers/client.ts";
import { ROOT, runFerry, startChild } from "../helpers/server.ts";
import { parseCli } from "../../src/cli.ts";
import { needs } from "../helpers/needs.ts";

const run = runFerry;

Deno.test("cli: an unknown flag prints one line and exits 2", needs("read", "run"), async () => {
  const r = await run(["--no-such-flag"]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split("\n").length, 1);
  assert.match(r.stderr, /unknown option '--no-such-flag'/);
});

Deno.test("cli: a bad value prints one line naming the flag and exits 2", needs("read", "run"), async () => {
  for (const args of [["--port", "70000"], ["--header-timeout", "soon"], ["--log-format", "xml"]]) {
    const r = await run(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(r.stderr.trim().split("\n").length, 1);
    assert.match(r.stderr, new RegExp(args[0]));
  }
});

Deno.test("cli: --help lists the contract flags and exits 0", needs("read", "run"), async () => {
  const r = await run(["--help"]);
  assert.equal(r.code, 0);
  for (
    const flag of [
      "--host",
      "--port",
      "--https-port",
      "--no-http",
      "--no-https",
      "--root",
      "--upload-dir",
      "--app",
      "--max-connections",
      "--max-target-length",
      "--max-header-bytes",
      "--max-body-bytes",
      "--header-timeout",
      "--keepalive-timeout",
      "--body-timeout",
      "--drain-timeout",
      "--log-format",
    ]
  ) assert.ok(r.stdout.includes(flag), `--help mentions ${flag}`);
});

Deno.test(
  "cli: every documented flag parses (the README table is the contract)",
  needs("read", "run"),
  async () => {
    const readme = await Deno.readTextFile(`${ROOT}README.md`);
    const rows = readme.split("\n").filter((l) => l.startsWith("| `--"));
    const flags = [...new Set(rows.flatMap((r) => [...r.matchAll(/`(--[a-z-]+)/g)].map((m) => m[1])))];
    assert.ok(flags.length >= 30, `found ${flags.length} flags in the README table`);
    const help = (await run(["--help"])).stdout;
    for (const flag of flags) assert.ok(help.includes(flag), `--help lists ${flag}`);
  },
);

Deno.test("cli: flags map onto options, sizes take K/M/G", () => {
  const c = parseCli([
    "--port",
    "0",
    "--no-https",
    "--max-body-bytes",
    "2M",
    "--header-timeout",
    "0.5",
    "--max-upload-bytes",
    "1G",
  ]);
  assert.equal(c.options.maxUploadBytes, 1024 ** 3);
  assert.equal(c.options.port, 0);
  assert.equal(c.options.https, false);
  assert.equal(c.options.http, true);
  assert.equal(c.options.maxBodyBytes, 2 * 1024 * 1024);
  assert.equal(c.options.headerTimeout, 0.5);
});

Deno.test(
  "cli: one start-up line per listener; SIGTERM drains and exits 0",
  needs("read", "run"),
  async () => {
    await using child = await startChild(["--port", "0", "--no-https", "--log-format", "none"]);
    assert.equal(child.urls.length, 1);
    const port = Number(new URL(child.urls[0]).port);
    const res = await exchange(port, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
    assert.equal(text(res), "Hello, World!");
    // A request in flight when the signal arrives still completes.
    await using c = await RawClient.connect(port);
    await c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    await c.response();
    child.child.kill("SIGTERM");
    const status = await child.status;
    assert.equal(status.code, 0);
    assert.match(child.stdout(), /stopped/);
  },
);

Deno.test("cli: `deno task start` passes extra flags through to main.ts", needs("read", "run"), async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "start", "--port", "0", "--no-https", "--log-format", "json"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  try {
    while (!/listening on (\S+)/.test(out)) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    const url = /listening on (\S+)/.exec(out)?.[1];
    assert.ok(url?.startsWith("http://127.0.0.1:"), out);
    const res = await exchange(Number(new URL(url!).port), "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
    assert.equal(res.status, 200);
    assert.equal(header(res, "server"), "ferry");
  } finally {
    child.kill("SIGTERM");
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
    await child.stderr.cancel();
    await child.status;
  }
});

Deno.test(
  "cli: --workers with a bad value names the flag and auto; a missing --app file exits 2",
  needs("read", "run"),
  async () => {
    const workers = await runFerry(["--no-https", "--workers", "foo"]);
    assert.equal(workers.code, 2);
    assert.match(workers.stderr, /--workers/);
    assert.match(workers.stderr, /auto/);
    const app = await runFerry(["--no-https", "--port", "0", "--app", "/nope.ts"]);
    assert.equal(app.code, 2, app.stderr);
    assert.match(app.stderr, /--app \/nope\.ts/);
  },
);
