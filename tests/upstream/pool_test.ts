/**
 * The pool without sockets: each policy's choice, passive failures marking a target down for
 * `fail_duration`, a failed health check taking it out, and the targets' and flags' syntax.
 */

import assert from "assert";
import { Pool, type Target } from "../../src/upstream/pool.ts";
import { resolveUpstream, type UpstreamConfig } from "../../src/upstream/upstream_config.ts";
import { parseTarget } from "../../src/upstream/target.ts";
import { parseProxyRoute } from "../../src/upstream/proxy_flag.ts";
import { upstreamStatus } from "../../src/upstream/status.ts";

function pool(config: Partial<UpstreamConfig>, name = "p"): Pool {
  const r = resolveUpstream(name, {
    targets: ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"],
    keepalive: 0,
    ...config,
  });
  assert.ok("settings" in r);
  return new Pool(r.settings);
}

const names = (picks: Array<Target | undefined>) => picks.map((t) => t?.name.slice(-1));

Deno.test("pool: round_robin takes each target in turn, first always the first available", () => {
  const rr = pool({});
  assert.deepEqual(names([1, 2, 3, 4].map(() => rr.pick("a", new Set()))), ["1", "2", "3", "1"]);
  const first = pool({ policy: "first" });
  assert.deepEqual(names([1, 2].map(() => first.pick("a", new Set()))), ["1", "1"]);
  first.setHealthy(first.targets[0], false);
  assert.equal(first.pick("a", new Set())?.name, "127.0.0.1:2");
  assert.equal(first.pick("a", new Set([first.targets[1]]))?.name, "127.0.0.1:3"); // a retry skips the tried
});

Deno.test("pool: ip_hash keeps a client on its target, and moves only that target's clients", () => {
  const p = pool({ policy: "ip_hash" });
  const clients = Array.from({ length: 40 }, (_, i) => `10.0.0.${i}`);
  const before = new Map(clients.map((c) => [c, p.pick(c, new Set())!]));
  for (const c of clients) assert.equal(p.pick(c, new Set()), before.get(c));
  assert.equal(new Set(before.values()).size, 3, "clients spread over the targets");
  const down = p.targets[1];
  p.setHealthy(down, false);
  for (const c of clients) {
    const now = p.pick(c, new Set())!;
    if (before.get(c) !== down) assert.equal(now, before.get(c));
    else assert.notEqual(now, down);
  }
});

Deno.test("pool: least_conn picks the target with the fewest requests in flight", () => {
  const p = pool({ policy: "least_conn" });
  p.begin(p.targets[0]);
  p.begin(p.targets[0]);
  p.begin(p.targets[2]);
  assert.equal(p.pick("a", new Set()), p.targets[1]);
  p.begin(p.targets[1]);
  p.begin(p.targets[1]);
  assert.equal(p.pick("a", new Set()), p.targets[2]);
});

Deno.test("pool: max_fails failures within fail_duration mark a target down; all marked, all tried", () => {
  const p = pool({ policy: "first", max_fails: 2, fail_duration: 3600 });
  p.fail(p.targets[0]);
  assert.equal(p.pick("a", new Set()), p.targets[0]); // one failure of two allowed
  p.fail(p.targets[0]);
  assert.equal(p.pick("a", new Set()), p.targets[1]);
  for (const t of p.targets.slice(1)) {
    p.fail(t);
    p.fail(t);
  }
  assert.equal(p.pick("a", new Set()), p.targets[0], "every target marked: tried all the same");
  const off = pool({ policy: "first", fail_duration: 0 });
  off.fail(off.targets[0]);
  assert.equal(off.pick("a", new Set()), off.targets[0], "fail_duration 0: passive checks off");
});

Deno.test("targets: HOST:PORT, [v6]:PORT, http://, unix//PATH; mistakes named", () => {
  assert.deepEqual(parseTarget("localhost:3000"), { transport: "tcp", hostname: "localhost", port: 3000 });
  assert.deepEqual(parseTarget("[::1]:9001"), { transport: "tcp", hostname: "::1", port: 9001 });
  assert.deepEqual(parseTarget("http://127.0.0.1:80/"), {
    transport: "tcp",
    hostname: "127.0.0.1",
    port: 80,
  });
  assert.deepEqual(parseTarget("unix//run/app.sock"), { transport: "unix", path: "/run/app.sock" });
  assert.throws(() => parseTarget("127.0.0.1"), /no port/);
  assert.throws(() => parseTarget("127.0.0.1:0"), /HOST:PORT/);
  assert.throws(() => parseTarget("https://a:443"), /TLS to upstreams is not supported/);
  assert.throws(() => parseTarget("unix/"), /unix\/\/PATH/);
});

Deno.test("--proxy: targets and settings; unknown settings and bad values named", () => {
  const r = parseProxyRoute(
    "/api/=127.0.0.1:1,unix//s.sock;policy=least_conn;health=/h;health_interval=2;try_duration=5",
  );
  assert.equal(r.prefix, "/api/");
  assert.deepEqual(r.upstream.targets, ["127.0.0.1:1", "unix//s.sock"]);
  assert.equal(r.upstream.policy, "least_conn");
  assert.deepEqual(r.upstream.health, { path: "/h", interval: 2 });
  assert.equal(r.upstream.try_duration, 5);
  assert.throws(() => parseProxyRoute("/api/=127.0.0.1:1;retries=3"), /unknown setting "retries"/);
  assert.throws(() => parseProxyRoute("/api/=127.0.0.1:1;policy=random"), /policy: one of/);
  assert.throws(() => parseProxyRoute("api=127.0.0.1:1"), /PREFIX=TARGET/);
  assert.throws(() => parseProxyRoute("/api/="), /targets: a non-empty list/);
  const bad = resolveUpstream("x", { targets: ["a:1"], tryDuration: 3, health: { path: "h" } });
  assert.ok("problems" in bad);
  assert.deepEqual(bad.problems.map((p) => p.path), ["tryDuration", "health.path"]);
});

Deno.test("pool: the admin API's view lists open pools' targets in Caddy's shape, closed ones leave", () => {
  const p = pool({ policy: "first", max_fails: 1, fail_duration: 3600 }, "status");
  p.begin(p.targets[1]);
  p.fail(p.targets[0]);
  const mine = upstreamStatus().filter((s) => s.upstream === "status");
  assert.deepEqual(mine.map((s) => [s.address, s.healthy, s.num_requests, s.fails, s.requests_total]), [
    ["127.0.0.1:1", false, 0, 1, 0],
    ["127.0.0.1:2", true, 1, 0, 1],
    ["127.0.0.1:3", true, 0, 0, 0],
  ]);
  p.close();
  assert.equal(upstreamStatus().filter((s) => s.upstream === "status").length, 0);
});
