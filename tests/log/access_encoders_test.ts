/** The access-log encoders (JSON, plain, combined): whole lines for any strings, as the logger writes them. */

import assert from "assert";

Deno.test("access log: any strings survive a JSON line round trip (property)", async () => {
  const fc = (await import("fast-check")).default;
  const { AccessMemo, formatAccess } = await import("../../src/log/logger.ts");
  // One memo across all runs, as one connection's lines share one: what it keeps must follow
  // every change, and plain and escaped lines alike. Values come from small sets often enough
  // that requests and connections repeat, so the kept parts are used as well as replaced.
  const memo = new AccessMemo();
  const agents = ["curl/8.5.0", "Mozilla/5.0 (X11; Linux x86_64)", undefined];
  fc.assert(
    fc.property(
      fc.oneof(fc.string({ unit: "binary" }), fc.constantFrom("/", "/hello", "/a b")),
      fc.oneof(fc.string({ unit: "grapheme" }), fc.constantFrom(...agents)),
      fc.string(),
      fc.option(fc.constantFrom("http://a/", 'http://b/"q"'), { nil: undefined }),
      fc.integer({ min: 1, max: 3 }),
      fc.double({ min: 0, max: 1e6, noNaN: true }),
      fc.record({
        method: fc.constantFrom("GET", "HEAD"),
        status: fc.constantFrom(200, 304),
        bytes: fc.constantFrom(0, 13),
        trace: fc.option(fc.constantFrom("4bf92f3577b34da6a3ce929d0e0e4736"), { nil: undefined }),
      }),
      (target, ua, id, referer, conn, ms, { method, status, bytes, trace }) => {
        const line = formatAccess("json", {
          time: Date.now(),
          conn,
          id,
          remote: "127.0.0.1",
          method,
          target,
          protocol: "HTTP/1.1",
          status,
          bytes,
          ms,
          ua,
          referer,
          tls: conn === 2,
          phase: conn === 3 ? "draining" : "running",
          trace,
        }, memo);
        assert.ok(!line.includes("\n"), "one line");
        const back = JSON.parse(line);
        assert.equal(back.target, target);
        assert.equal(back.method, method);
        assert.equal(back.status, status);
        assert.equal(back.bytes, bytes);
        assert.equal(back.trace, trace);
        assert.equal(back.ua, ua);
        assert.equal(back.referer, referer);
        assert.equal(back.id, id);
        assert.equal(back.conn, conn);
        assert.equal(back.remote, "127.0.0.1");
        assert.equal(back.protocol, "HTTP/1.1");
        assert.equal(back.tls, conn === 2);
        assert.equal(back.phase, conn === 3 ? "draining" : "running");
        assert.equal(back.ms, Math.round(ms * 1000) / 1000);
      },
    ),
    { numRuns: 3000 },
  );
});

/** A logger of `format` whose access lines are kept in memory: `written()` is all of them so far. */
async function capturingLogger(format: "plain" | "combined" | "json") {
  const { Logger } = await import("../../src/log/logger.ts");
  let text = "";
  const sink = {
    write(p: Uint8Array) {
      text += new TextDecoder().decode(p);
      return Promise.resolve(p.length);
    },
  };
  return { log: new Logger(format, sink, sink), written: () => text };
}

Deno.test("access log: the logger writes every format's line as formatAccess renders it (property)", async () => {
  const fc = (await import("fast-check")).default;
  const { AccessMemo, formatAccess } = await import("../../src/log/logger.ts");
  const huge = fc.oneof(fc.constantFrom(0, 13, 200, Number.MAX_SAFE_INTEGER), fc.maxSafeNat());
  const entry = fc.record({
    time: fc.integer({ min: 0, max: 4102444800000 }),
    conn: huge,
    id: fc.oneof(fc.constantFrom("q3k9x2-1a"), fc.string({ unit: "binary" })),
    remote: fc.constantFrom("127.0.0.1", "::1"),
    method: fc.oneof(fc.constantFrom("GET", "HEAD"), fc.string()),
    target: fc.oneof(fc.constantFrom("/", "/hello"), fc.string({ unit: "binary" })),
    protocol: fc.constantFrom("HTTP/1.1", "HTTP/1.0"),
    status: fc.oneof(fc.constantFrom(200, 404), fc.integer({ min: 100, max: 999 })),
    bytes: huge,
    ms: fc.oneof(fc.double({ min: 0, max: 1e12, noNaN: true }), fc.constantFrom(0, 0.049, 0.05, 0.95)),
    ua: fc.option(fc.oneof(fc.constantFrom("curl/8.5.0"), fc.string()), { nil: undefined }),
    referer: fc.option(fc.string(), { nil: undefined }),
    tls: fc.boolean(),
    phase: fc.constantFrom("running", "draining"),
    trace: fc.option(fc.constantFrom("4bf92f3577b34da6a3ce929d0e0e4736", 'a"b'), { nil: undefined }),
  });
  for (const format of ["plain", "combined", "json"] as const) {
    const { log, written } = await capturingLogger(format);
    const memo = new AccessMemo();
    const expected: string[] = [];
    // Thousands of lines, many with numbers of 16 digits: some land at the end of the batch
    // buffer, where a line longer than the room it reserved would be cut short.
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 40 }), (entries) => {
        for (const e of entries) {
          log.access(e, memo);
          expected.push(formatAccess(format, e));
        }
      }),
      { numRuns: 150 },
    );
    await log.flush();
    const lines = written().split("\n");
    assert.equal(lines.pop(), "");
    assert.equal(
      lines.length,
      expected.length,
      `${format}: ${lines.length} lines, ${expected.length} expected`,
    );
    for (let i = 0; i < lines.length; i++) {
      if (format === "json") assert.deepEqual(JSON.parse(lines[i]), JSON.parse(expected[i]), `line ${i}`);
      else assert.equal(lines[i], expected[i], `line ${i}`);
    }
  }
});

Deno.test("access log: a line with every field and long numbers is whole at the end of a batch buffer", async () => {
  const { AccessMemo, formatAccess } = await import("../../src/log/logger.ts");
  // Lines are encoded into a 64 KiB batch buffer after reserving room for them; a line longer
  // than its reservation would be cut where the buffer ends. Land the longest line there at every
  // offset: fillers bring the buffer to within `gap` bytes of its end first.
  const BATCH = 64 * 1024;
  const base = {
    time: Date.UTC(2026, 10, 21),
    id: "q3k9x2-1a",
    remote: "127.0.0.1",
    method: "GET",
    protocol: "HTTP/1.1",
    status: 200,
    bytes: 0,
    ms: 0,
    tls: false,
    phase: "running",
  };
  const long = {
    ...base,
    conn: Number.MAX_SAFE_INTEGER,
    target: "/x",
    status: 999,
    bytes: Number.MAX_SAFE_INTEGER,
    ms: 9e12,
    ua: "u",
    referer: "r",
    trace: "4bf92f3577b34da6a3ce929d0e0e4736",
  };
  const filler = (length: number) => ({ ...base, conn: 1, target: "/" + "f".repeat(length - 200) });
  for (const format of ["json", "plain"] as const) {
    const size = (e: object) => formatAccess(format, e as never).length + 1;
    for (let gap = 1; gap <= 420; gap++) {
      const { log, written } = await capturingLogger(format);
      // Fillers of 4,000 bytes, then one of the length left (at least 400 bytes).
      let left = BATCH - gap;
      const fillers: object[] = [];
      while (left > 4400) {
        const f = filler(4000);
        fillers.push(f);
        left -= size(f);
      }
      let n = left;
      while (size(filler(n)) > left) n--;
      while (size(filler(n)) < left) n++;
      fillers.push(filler(n));
      for (const f of fillers) log.access(f as never);
      log.access(long, new AccessMemo());
      await log.flush();
      const lines = written().split("\n");
      assert.equal(lines.at(-2), formatAccess(format, long), `${format}, ${gap} bytes from the end`);
    }
  }
});
