/**
 * Metrics and logs: counters that move with traffic, the Prometheus output parsed by a real
 * parser and linted, the allow-list, request and trace ids, access lines that stay valid JSON
 * for hostile requests, and log rotation under load keeping every line exactly once.
 */

import assert from "assert";
import zlib from "zlib";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { exchange, header, RawClient, text } from "../helpers/client.ts";
import { startServer } from "../helpers/server.ts";
import { countTargets, readRotatedJsonLog } from "../helpers/logs.ts";
import { createLogger, type Handler, resolveOptions } from "../../src/mod.ts";
import { Stats } from "../../src/stats.ts";
import { needs } from "../helpers/needs.ts";

const H = "Host: t\r\n";

/** Runs `fn` in a fresh temporary directory, removed afterwards. */
async function inTempDir(prefix: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The `i`th 90-byte batch the rotation tests write. */
function batch(i: number): string {
  return `batch ${String(i).padStart(2, "0")} ${"x".repeat(80)}\n`;
}

async function metrics(port: number, query = "", headers = "") {
  return await exchange(port, `GET /_metrics${query} HTTP/1.1\r\n${H}${headers}\r\n`);
}

Deno.test("metrics: JSON counters move with traffic", async () => {
  await using s = await startServer({
    handler: (req, res) => {
      if (req.path === "/boom") throw new Error("app failure");
      return res.send(req.path === "/missing" ? 404 : 200, [], "ok");
    },
  });
  const before = JSON.parse(text(await metrics(s.port)));
  await using c = await RawClient.connect(s.port);
  for (const p of ["/a", "/b", "/missing", "/boom"]) {
    await c.send(`GET ${p} HTTP/1.1\r\n${H}\r\n`);
    await c.response();
  }
  await exchange(s.port, "GET / HTTP/1.1\r\nHost : x\r\n\r\n"); // a parser rejection
  const m = JSON.parse(text(await metrics(s.port)));
  assert.equal(m.requests_total - before.requests_total, 5, "4 app requests + this metrics request");
  assert.equal(m.responses["200"] - (before.responses["200"] ?? 0), 3);
  assert.equal(m.responses["404"], 1);
  assert.equal(m.responses["500"], 1);
  assert.equal(m.responses["400"], 1);
  assert.ok(m.connections_active >= 1);
  assert.equal(m.routes.app.count, 4);
  for (const p of ["p50_ms", "p95_ms", "p99_ms"]) assert.equal(typeof m.routes.app[p], "number");
  assert.ok(m.routes.app.p99_ms >= m.routes.app.p50_ms);
  assert.equal(m.routes.app.methods.GET, 4);
  assert.equal(m.errors.parse.whitespace_before_colon, 1);
  assert.equal(m.errors.app_exceptions, 1);
  assert.ok(m.keepalive_reuse >= 3);
  assert.ok(m.bytes_in > 0 && m.bytes_out > 0);
  assert.equal(m.version, "0.1.0");
  assert.equal(typeof m.uptime_s, "number");
});

/** Lint rules after promtool's `check metrics` and the exposition format 0.0.4. */
function lintPrometheus(body: string): string[] {
  const problems: string[] = [];
  const helps = new Set<string>();
  const types = new Map<string, string>();
  const seen = new Set<string>();
  for (const line of body.split("\n")) {
    if (line === "") continue;
    const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$/.exec(line);
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (help) helps.add(help[1]);
    else if (type) {
      if (types.has(type[1])) problems.push(`TYPE twice: ${type[1]}`);
      types.set(type[1], type[2]);
      if (type[2] === "counter" && !type[1].endsWith("_total")) {
        problems.push(`counter without _total: ${type[1]}`);
      }
    } else if (line.startsWith("#")) problems.push(`stray comment: ${line}`);
    else {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (\S+)$/
        .exec(line);
      if (!m) {
        problems.push(`bad sample line: ${line}`);
        continue;
      }
      const family = m[1].replace(/_(bucket|sum|count)$/, "");
      if (!types.has(m[1]) && !types.has(family)) problems.push(`sample before its TYPE: ${line}`);
      if (!helps.has(m[1]) && !helps.has(family)) problems.push(`no HELP for ${m[1]}`);
      if (seen.has(m[1] + (m[2] ?? ""))) problems.push(`duplicate series: ${line}`);
      seen.add(m[1] + (m[2] ?? ""));
      if (!/^(-?\d+(\.\d+)?(e[+-]?\d+)?|\+Inf|-Inf|NaN)$/.test(m[3])) problems.push(`bad value: ${line}`);
      if (/[A-Z]/.test(m[1])) problems.push(`camelCase name: ${m[1]}`);
    }
  }
  return problems;
}

Deno.test("metrics: Prometheus text format, parsed by a real parser, lints clean", async () => {
  await using s = await startServer();
  for (let i = 0; i < 5; i++) await exchange(s.port, `GET /hello HTTP/1.1\r\n${H}\r\n`);
  await exchange(s.port, `GET /static/hello.txt HTTP/1.1\r\n${H}\r\n`);
  const res = await metrics(s.port, "?format=prometheus");
  assert.equal(header(res, "content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const body = text(res);
  assert.deepEqual(lintPrometheus(body), []);

  type Family = { name: string; type: string; metrics: Array<Record<string, unknown>> };
  const families = parsePrometheusTextFormat(body) as Family[];
  const byName = new Map(families.map((f) => [f.name, f]));
  for (
    const name of [
      "ferry_requests_total",
      "ferry_responses_total",
      "ferry_connections_active",
      "ferry_request_duration_seconds",
    ]
  ) {
    assert.ok(byName.has(name), name);
  }
  assert.equal(byName.get("ferry_connections_active")!.type, "GAUGE");
  const requests = byName.get("ferry_requests_total")!.metrics as Array<
    { labels: Record<string, string>; value: string }
  >;
  assert.equal(Number(requests.find((m) => m.labels.mount === "app" && m.labels.method === "GET")!.value), 5);
  const hist = byName.get("ferry_request_duration_seconds")!;
  assert.equal(hist.type, "HISTOGRAM");
  // This parser folds labelled histogram series together and drops their _sum and _count, so
  // the histogram invariants are checked per mount on the text itself.
  const mounts = [...body.matchAll(/^ferry_request_duration_seconds_count\{mount="([^"]+)"\} (\d+)$/gm)];
  assert.deepEqual(mounts.map((m) => m[1]).sort(), ["app", "static"]);
  for (const [, mount, count] of mounts) {
    const buckets = [
      ...body.matchAll(
        new RegExp(`^ferry_request_duration_seconds_bucket\\{mount="${mount}",le="([^"]+)"\\} (\\d+)$`, "gm"),
      ),
    ];
    assert.equal(buckets.at(-1)![1], "+Inf");
    for (let j = 1; j < buckets.length; j++) {
      assert.ok(
        Number(buckets[j][1]) > Number(buckets[j - 1][1]) || buckets[j][1] === "+Inf",
        "le ascending",
      );
      assert.ok(Number(buckets[j][2]) >= Number(buckets[j - 1][2]), "buckets are cumulative");
    }
    assert.equal(buckets.at(-1)![2], count, "+Inf bucket equals the count");
    assert.match(
      body,
      new RegExp(`^ferry_request_duration_seconds_sum\\{mount="${mount}"\\} [0-9.e-]+$`, "m"),
    );
  }
  // Accept: text/plain asks for the same format.
  const viaAccept = await metrics(s.port, "", "Accept: text/plain\r\n");
  assert.match(header(viaAccept, "content-type") ?? "", /^text\/plain; version=0\.0\.4/);
});

Deno.test("metrics: --metrics-allow refuses an address outside the list (403)", async () => {
  {
    await using s = await startServer({ metricsAllow: "10.0.0.0/8,::1/128" });
    const res = await metrics(s.port);
    assert.equal(res.status, 403);
    assert.doesNotMatch(text(res), /requests_total/);
  }
  await using s = await startServer({ metricsAllow: "127.0.0.1/32" });
  assert.equal((await metrics(s.port)).status, 200);
});

Deno.test("ids: X-Request-Id is sent back; a well-formed incoming one is kept; traceparent is logged", async () => {
  await using s = await startServer({ logFormat: "json" });
  const fresh = await exchange(s.port, `GET /hello HTTP/1.1\r\n${H}\r\n`);
  assert.match(header(fresh, "x-request-id") ?? "", /^[a-z0-9]+-[a-z0-9]+$/);
  const kept = await exchange(s.port, `GET /hello HTTP/1.1\r\n${H}X-Request-Id: abc-123.DEF\r\n\r\n`);
  assert.equal(header(kept, "x-request-id"), "abc-123.DEF");
  const replaced = await exchange(
    s.port,
    `GET /hello HTTP/1.1\r\n${H}X-Request-Id: has space and "quotes"\r\n\r\n`,
  );
  assert.notEqual(header(replaced, "x-request-id"), 'has space and "quotes"');
  const trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  await exchange(s.port, `GET /hello HTTP/1.1\r\n${H}traceparent: 00-${trace}-00f067aa0ba902b7-01\r\n\r\n`);
  await s.server.log.flush();
  const lines = s.logs.text.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.find((l) => l.id === "abc-123.DEF")?.target, "/hello");
  assert.equal(lines.find((l) => l.trace === trace)?.status, 200);
});

Deno.test("ids: ferry's own ids are its prefix and a base-36 count, one apart, past two-digit counts too", async () => {
  // 1,400 requests on one connection cross 36² = 1,296, where the count gains its third digit.
  await using s = await startServer();
  await using c = await RawClient.connect(s.port);
  const ids: string[] = [];
  for (let sent = 0; sent < 1400; sent += 100) {
    await c.send(`GET /hello HTTP/1.1\r\n${H}\r\n`.repeat(100));
    for (let i = 0; i < 100; i++) ids.push(header(await c.response(), "x-request-id") ?? "");
  }
  const prefix = ids[0].slice(0, ids[0].lastIndexOf("-"));
  const first = parseInt(ids[0].slice(prefix.length + 1), 36);
  ids.forEach((id, i) => assert.equal(id, `${prefix}-${(first + i).toString(36)}`));
});

Deno.test("pipelining: a burst of 16 requests gives 16 access lines in order and 16 latency samples", async () => {
  await using s = await startServer({
    logFormat: "json",
    handler: (req, res) => res.send(200, [], req.path),
  });
  await using c = await RawClient.connect(s.port);
  const paths = Array.from({ length: 16 }, (_, i) => `/p/${i}`);
  await c.send(paths.map((p) => `GET ${p} HTTP/1.1\r\n${H}User-Agent: burst/1\r\n\r\n`).join(""));
  for (const p of paths) assert.equal(text(await c.response()), p);
  const m = JSON.parse(text(await metrics(s.port)));
  assert.equal(m.routes.app.count, 16);
  assert.ok(m.routes.app.p99_ms > 0);
  await s.server.log.flush();
  const lines = s.logs.text.trim().split("\n").map((l) => JSON.parse(l)).filter((l) => l.ua === "burst/1");
  assert.deepEqual(lines.map((l) => l.target), paths);
  for (const l of lines) assert.ok(l.ms >= 0 && l.status === 200, JSON.stringify(l));
});

Deno.test("pipelining: a burst that mixes mounts counts each mount's latency samples as its requests", async () => {
  // A burst's latencies are recorded per run of one mount: runs that change mount, and a second
  // burst on the same connection, must each count where they belong.
  await using s = await startServer({ handler: (req, res) => res.send(200, [], req.path) });
  await using c = await RawClient.connect(s.port);
  const paths = ["/a", "/b", "/_health", "/c", "/_health", "/_health", "/d", "/e", "/_health", "/f"];
  for (let burst = 0; burst < 2; burst++) {
    await c.send(paths.map((p) => `GET ${p} HTTP/1.1\r\n${H}\r\n`).join(""));
    for (let i = 0; i < paths.length; i++) await c.response();
  }
  const m = JSON.parse(text(await metrics(s.port)));
  assert.equal(m.routes.app.count, 12);
  assert.equal(m.routes.health.count, 8);
});

Deno.test("access log: one keep-alive connection, changing headers: each line has its own", async () => {
  await using s = await startServer({
    logFormat: "json",
    handler: (req, res) => res.send(200, [], req.path),
  });
  await using c = await RawClient.connect(s.port);
  // The end of a JSON line is kept per connection and copied while it repeats: it must follow
  // every change (user agent, referer, present or not), and an absent value is left out.
  const sent: Array<[string, string | undefined, string | undefined]> = [
    ["/a", "agent/1", undefined],
    ["/b", "agent/1", undefined],
    ["/c", "agent/2", "http://x/"],
    ["/d", "agent/2", "http://x/"],
    ["/e", undefined, "http://x/"],
    ["/f", undefined, undefined],
    ["/g", "agent/1", undefined],
  ];
  for (const [path, ua, referer] of sent) {
    await c.send(
      `GET ${path} HTTP/1.1\r\n${H}${ua ? `User-Agent: ${ua}\r\n` : ""}` +
        `${referer ? `Referer: ${referer}\r\n` : ""}\r\n`,
    );
    assert.equal(text(await c.response()), path);
  }
  await s.server.log.flush();
  const lines = s.logs.text.trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => [l.target, l.ua, l.referer]), sent);
  assert.equal(new Set(lines.map((l) => l.conn)).size, 1);
  for (const l of lines) {
    assert.ok(!("trace" in l), JSON.stringify(l));
    assert.equal(l.ua === undefined, !("ua" in l));
  }
});

Deno.test("access log: hostile requests still give one valid JSON line each", async () => {
  await using s = await startServer({ logFormat: "json", handler: (_req, res) => res.send(200, [], "ok") });
  const ua = "Mozilla/5.0 " + "x".repeat(8 * 1024);
  const targets = [
    `/quote"and\\backslash`,
    "/crlf%0D%0Ainjected:%20yes",
    "/tab%09%00nul",
    '/{"json":true}',
  ];
  for (const t of targets) await exchange(s.port, `GET ${t} HTTP/1.1\r\n${H}User-Agent: ${ua}\r\n\r\n`);
  // Invalid UTF-8 (obs-text bytes) in a header.
  await exchange(s.port, `GET /obs HTTP/1.1\r\n${H}User-Agent: caf\xe9 \xff\xfe\r\n\r\n`);
  // And a request the parser refuses.
  await exchange(s.port, `GET /bad HTTP/1.1\r\nHost: t\r\nX: a\rb\r\n\r\n`);
  await s.server.log.flush();
  // The test sink also gets the error log (JSON lines with a "level"); every line must parse.
  const parsed = s.logs.text.trim().split("\n").map((l) => JSON.parse(l)).filter((l) => !("level" in l));
  assert.equal(parsed.length, targets.length + 2, "one line per request, none split");
  for (const [i, t] of targets.entries()) {
    assert.equal(parsed[i].target, t);
    assert.equal(parsed[i].ua, ua);
    for (const k of ["time", "conn", "id", "remote", "method", "status", "bytes", "ms", "tls", "phase"]) {
      assert.ok(k in parsed[i], `field ${k}`);
    }
  }
  assert.equal(parsed[targets.length].ua, "caf\xe9 \xff\xfe");
  assert.equal(parsed[targets.length + 1].status, 400);
});

Deno.test("access log: combined format, one line each, quotes escaped", async () => {
  await using s = await startServer({
    logFormat: "combined",
    handler: (_req, res) => res.send(200, [], "hello"),
  });
  await exchange(
    s.port,
    `GET /x"y HTTP/1.1\r\n${H}User-Agent: a "quoted" agent\r\nReferer: http://r/\r\n\r\n`,
  );
  await s.server.log.flush();
  const line = s.logs.text.trim();
  assert.match(
    line,
    /^127\.0\.0\.1 - - \[\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET \/x\\"y HTTP\/1\.1" 200 5 "http:\/\/r\/" "a \\"quoted\\" agent"$/,
  );
});

Deno.test(
  "log files: rotation under load yields .gz files and every line exactly once",
  needs("read", "write", "run"),
  async () => {
    await inTempDir("ferry-logs-", async (dir) => {
      const options = {
        logFormat: "json" as const,
        logFile: `${dir}/access.log`,
        logRotateSize: "8K",
        logRotateInterval: "",
        logRotateKeep: 0,
      };
      const stats = new Stats();
      const log = createLogger(resolveOptions(options), stats);
      const handler: Handler = (_req, res) => res.send(200, [], "ok");
      await using s = await startServer({ ...options, handler, log, stats });
      const n = 1500;
      await Promise.all(Array.from({ length: 10 }, async (_, w) => {
        await using c = await RawClient.connect(s.port);
        for (let i = w; i < n; i += 10) {
          await c.send(`GET /r/${i} HTTP/1.1\r\n${H}\r\n`);
          await c.response();
        }
      }));
      await s.server.shutdown(); // flushes and closes the log file
      const { entries, rotated } = await readRotatedJsonLog(dir, "access.log"); // every line whole
      assert.ok(rotated.length >= 3, `rotated files: ${rotated.join(", ")}`);
      const seen = countTargets(entries);
      assert.equal(seen.size, n);
      for (let i = 0; i < n; i++) assert.equal(seen.get(`/r/${i}`), 1, `/r/${i}`);
      assert.equal(stats.logLinesDropped, 0);
    });
  },
);

Deno.test(
  "log files: a rotated file larger than one gzip member decompresses whole (zlib and zcat)",
  needs("read", "write", "run"),
  async () => {
    const { fileSink } = await import("../../src/log/files.ts");
    await inTempDir("ferry-gz-", async (dir) => {
      const sink = fileSink(`${dir}/a.log`, { size: "1M", interval: "", keep: 0 });
      // 12,000 numbered lines of about 90 bytes: a bit over 1 MiB, several 256 KiB gzip members.
      const lines = Array.from(
        { length: 12_000 },
        (_, i) => `line ${String(i).padStart(6, "0")} ${"y".repeat(78)}`,
      );
      for (let i = 0; i < lines.length; i += 500) {
        await sink.write(new TextEncoder().encode(lines.slice(i, i + 500).join("\n") + "\n"));
      }
      await sink.close();
      const gz = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".gz"));
      assert.equal(gz.length, 1, gz.join(", "));
      const packed = await Deno.readFile(`${dir}/${gz[0]}`);
      const unpacked = new TextDecoder().decode(zlib.gunzipSync(packed));
      assert.ok(unpacked.length > 3 * 256 * 1024, `rotated ${unpacked.length} bytes`); // several members
      const zcat = await new Deno.Command("gzip", { args: ["-dc", `${dir}/${gz[0]}`], stdout: "piped" })
        .output();
      assert.ok(zcat.success);
      assert.equal(new TextDecoder().decode(zcat.stdout), unpacked);
      // The rotated file and the live one hold every line, once, in order.
      const expected = lines.join("\n") + "\n";
      assert.equal(unpacked + await Deno.readTextFile(`${dir}/a.log`), expected);
      assert.ok(packed.length < unpacked.length / 4, `compressed to ${packed.length} bytes`);
    });
  },
);

Deno.test(
  "log files: --log-rotate-keep keeps the newest rotated files only",
  needs("read", "write", "run"),
  async () => {
    const { fileSink } = await import("../../src/log/files.ts");
    await inTempDir("ferry-keep-", async (dir) => {
      const sink = fileSink(`${dir}/a.log`, { size: "100B", interval: "", keep: 3 });
      for (let i = 0; i < 12; i++) {
        await sink.write(new TextEncoder().encode(batch(i)));
      }
      await sink.close();
      const rotated = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".gz")).sort();
      assert.equal(rotated.length, 3, rotated.join(", "));
      // The newest three rotations: batches 08, 09 and 10 (11 is still in the live file).
      const kept = rotated.map((f) =>
        new TextDecoder().decode(zlib.gunzipSync(Deno.readFileSync(`${dir}/${f}`)))
      );
      assert.deepEqual(kept.map((t) => t.slice(0, 8)), ["batch 08", "batch 09", "batch 10"]);
      assert.match(await Deno.readTextFile(`${dir}/a.log`), /^batch 11/);
    });
  },
);

Deno.test(
  "log files: a path that is not a regular file (a FIFO) is written, never rotated",
  needs("read", "write", "run"),
  async () => {
    const { fileSink } = await import("../../src/log/files.ts");
    await inTempDir("ferry-fifo-", async (dir) => {
      const fifo = `${dir}/a.log`;
      const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
      assert.ok(made.success, "mkfifo");
      // The reader: everything written to the FIFO, until the writer closes it.
      const reading = (async () => {
        const r = await Deno.open(fifo, { read: true });
        return new TextDecoder().decode(await new Response(r.readable).arrayBuffer());
      })();
      const sink = fileSink(fifo, { size: "100B", interval: "", keep: 3 });
      const batches = Array.from({ length: 12 }, (_, i) => batch(i));
      for (const b of batches) await sink.write(new TextEncoder().encode(b));
      // Checked before close(): a rotated FIFO would leave close() waiting on its gzip for good.
      assert.ok((await Deno.lstat(fifo)).isFifo, "the FIFO is still a FIFO");
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["a.log"]);
      await sink.close();
      assert.equal(await reading, batches.join(""));
    });
  },
);

Deno.test(
  "log relay: a batch the owner cannot write comes back as an error and counts as dropped",
  needs("read", "write", "run"),
  async () => {
    const { LogOwner, RelaySink, Logger } = await import("../../src/mod.ts");
    await inTempDir("ferry-relay-", async (dir) => {
      // The error log's file is open for reading only: every write to it fails.
      await Deno.writeTextFile(`${dir}/errors.log`, "");
      const broken = await Deno.open(`${dir}/errors.log`, { read: true });
      const access = await Deno.open(`${dir}/access.log`, { write: true, create: true, append: true });
      const owner = new LogOwner(access, broken);
      // The message hop of --workers, on one thread: each post reaches the owner a task later.
      const sinks = {} as Record<"access" | "errors", InstanceType<typeof RelaySink>>;
      for (const stream of ["access", "errors"] as const) {
        sinks[stream] = new RelaySink(
          stream,
          (b) => setTimeout(() => owner.receive(b, (ack) => setTimeout(() => sinks[ack.stream].settle(ack)))),
        );
      }
      let dropped = 0;
      const log = new Logger("plain", sinks.access, sinks.errors, "info", () => dropped++);
      for (let i = 0; i < 3; i++) log.error(`error ${i}`);
      const entry = {
        time: Date.UTC(2026, 10, 21),
        conn: 1,
        id: "r-1",
        remote: "127.0.0.1",
        method: "GET",
        target: "/a",
        protocol: "HTTP/1.1",
        status: 200,
        bytes: 2,
        ms: 1,
        tls: false,
        phase: "running",
      };
      log.access(entry);
      await log.flush();
      await owner.close(); // closes both files
      assert.ok(dropped >= 1, `dropped ${dropped}`);
      assert.match(
        await Deno.readTextFile(`${dir}/access.log`),
        /^\S+ 127\.0\.0\.1 "GET \/a HTTP\/1\.1" 200 2 /,
      );
    });
  },
);

Deno.test(
  "metrics: Prometheus has the dropped-lines counter and the standard process metrics",
  needs("read", "write", "run"),
  async () => {
    await using s = await startServer();
    s.server.stats.logLinesDropped = 3;
    const body = text(await metrics(s.port, "?format=prometheus"));
    assert.deepEqual(lintPrometheus(body), []);
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(body)?.[1]);
    assert.equal(value("ferry_log_lines_dropped_total"), 3);
    const rss = value("process_resident_memory_bytes");
    assert.ok(rss > 10 * 1024 * 1024 && rss < 4 * 1024 ** 3, `rss ${rss}`);
    assert.ok(value("process_cpu_seconds_total") > 0);
    assert.ok(value("process_open_fds") >= 3);
    assert.ok(value("process_max_fds") >= value("process_open_fds"));
    const start = value("process_start_time_seconds");
    assert.ok(Math.abs(start - Date.now() / 1000) < 24 * 3600, `start ${start}`);
    assert.ok(start <= Date.now() / 1000 + 1);
  },
);
