/**
 * Smoke tests of the tools: the load generator against a live ferry (table and JSON), and the
 * benchmark for about a second (it must print its table with a ratio). Not the bench itself:
 * speed is never asserted here.
 */

import assert from "assert";
import { ROOT, startServer } from "../helpers/server.ts";
import { needs } from "../helpers/needs.ts";

async function deno(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), { args, cwd: ROOT, stdin: "null" }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test(
  "loadgen: a one-second run against ferry prints a table, and JSON with --json",
  needs("read", "run"),
  async () => {
    await using s = await startServer();
    const url = `http://127.0.0.1:${s.port}/hello`;
    const table = await deno([
      "task",
      "loadgen",
      "--url",
      url,
      "--connections",
      "4",
      "--duration",
      "1",
      "--no-progress",
    ]);
    assert.equal(table.code, 0, table.stderr);
    for (
      const row of [
        "requests/s",
        "bytes/s",
        "latency p50",
        "latency p90",
        "latency p99",
        "latency max",
        "errors",
      ]
    ) {
      assert.match(table.stdout, new RegExp(row));
    }
    const json = await deno([
      "task",
      "loadgen",
      "--url",
      url,
      "--connections",
      "4",
      "--requests",
      "400",
      "--pipeline",
      "4",
      "--json",
    ]);
    assert.equal(json.code, 0, json.stderr);
    const r = JSON.parse(json.stdout.slice(json.stdout.indexOf("{")));
    assert.equal(r.requests, 400);
    assert.deepEqual(r.errors, {});
    assert.equal(r.statuses["2xx"], 400);
    assert.ok(r.requestsPerSecond > 0 && r.latencyMs.p99 >= r.latencyMs.p50);
  },
);

Deno.test(
  "loadgen --h3: 200 requests over HTTP/3 (QUIC) on 2 connections, 8 streams each, all 2xx",
  needs("read", "run"),
  async () => {
    const { makeSelfSigned } = await import("../../src/tls/cert.ts");
    const material = await makeSelfSigned();
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(`${dir}/ca.pem`, material.cert);
    await using s = await startServer({ https: true, httpsPort: 0, tlsMaterial: material, http3: true });
    const r = await deno([
      "task",
      "loadgen",
      "--h3",
      "--url",
      `https://localhost:${s.httpsPort}/static/hello.txt`,
      "--ca-cert",
      `${dir}/ca.pem`,
      "--connections",
      "2",
      "--pipeline",
      "8",
      "--requests",
      "200",
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.slice(r.stdout.indexOf("{")));
    assert.equal(out.statuses["2xx"], out.requests);
    assert.ok(out.requests >= 200, String(out.requests));
    assert.deepEqual(out.errors, {});
    assert.equal(s.server.stats.h3Connections, 2);
    assert.equal(s.server.stats.h3Streams, out.requests);
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test("bench: a quick run prints the Markdown table with ratios", needs("read", "run"), async () => {
  const r = await deno(["run", "-A", "--unstable-net", "scripts/bench.ts", "--quick", "--only", "hello"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\| scenario \| unit \| medians \| ratio \| target \| met \|$/m);
  assert.match(r.stdout, /hello, keep-alive, 50 connections/);
  assert.match(r.stdout, /ferry \/ Deno\.serve = \d+\.\d\d×/);
});
