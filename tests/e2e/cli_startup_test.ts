/**
 * The command line as a new user meets it (issue 17): every bad value names its flag and exits 2,
 * commander's "did you mean" survives, one size syntax everywhere, start-up checks that name the
 * address, the file or the flag, and --help grouped with sizes as people write them.
 */

import assert from "assert";
import { join } from "../helpers/paths.ts";
import { runFerry, startChild } from "../helpers/server.ts";
import { makeSelfSigned } from "../../src/tls/cert.ts";
import { parseCli } from "../../src/cli.ts";
import { needs } from "../helpers/needs.ts";

const run = (args: string[]) => runFerry(["--port", "0", "--https-port", "0", ...args]);

Deno.test(
  "cli startup: each bad value names its flag, says what is expected, and exits 2",
  needs("read", "write", "run"),
  async () => {
    const cases: Array<[string[], RegExp]> = [
      [["--log-rotate-size", "10Q"], /--log-rotate-size.*"10Q" is not a size: write bytes, or K, M or G/],
      [["--log-rotate-interval", "5x"], /--log-rotate-interval.*"5x" is not an interval/],
      [["--log-rotate-interval", "1M"], /M is ambiguous/],
      [["--metrics-allow", "banana"], /--metrics-allow.*banana/],
      [["--static-prefix", "static"], /--static-prefix.*starts and ends with \//],
      [["--host", "999.1.1.1"], /--host.*not an IPv4 address/],
      [["--max-body-bytes", "lots"], /--max-body-bytes.*not a size/],
      [["--prot", "80"], /unknown option '--prot' \(Did you mean --port\?\)/],
    ];
    for (const [args, expected] of cases) {
      const r = await run(args);
      assert.equal(r.code, 2, args.join(" "));
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, expected);
    }
  },
);

Deno.test("cli startup: one size syntax for every size flag (K/M/G in any case, plain bytes)", () => {
  const o = (args: string[]) => parseCli(args).options;
  assert.equal(o(["--max-body-bytes", "10m"]).maxBodyBytes, 10 * 1024 * 1024);
  assert.equal(o(["--max-body-bytes", "10M"]).maxBodyBytes, 10 * 1024 * 1024);
  assert.equal(o(["--cache-max-bytes", "512k"]).cacheMaxBytes, 512 * 1024);
  assert.equal(o(["--max-upload-bytes", "2G"]).maxUploadBytes, 2 * 1024 ** 3);
  assert.equal(o(["--max-header-bytes", "4096"]).maxHeaderBytes, 4096);
  assert.equal(o(["--log-rotate-size", "5m"]).logRotateSize, "5m");
  assert.equal(o(["--log-rotate-interval", "15m"]).logRotateInterval, "15m");
});

Deno.test(
  "cli startup: a port in use names the address and the listener",
  needs("read", "write", "run"),
  async () => {
    const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const port = (taken.addr as Deno.NetAddr).port;
      const r = await run(["--no-https", "--port", String(port)]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port} \\(the HTTP listener\\): the address is in use`),
      );
      assert.match(r.stderr, /--port/);
    } finally {
      taken.close();
    }
  },
);

Deno.test(
  "cli startup: an unreadable, bad or mismatched certificate or key names the file",
  needs("read", "write", "run"),
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      const a = await makeSelfSigned();
      const b = await makeSelfSigned();
      await Deno.writeTextFile(join(dir, "a-cert.pem"), a.cert);
      await Deno.writeTextFile(join(dir, "b-key.pem"), b.key);
      await Deno.writeTextFile(join(dir, "junk.pem"), "not a certificate\n");
      const missing = await run(["--cert", join(dir, "none.pem"), "--key", join(dir, "b-key.pem")]);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /cannot read --cert .*none\.pem/);
      const junk = await run(["--cert", join(dir, "junk.pem"), "--key", join(dir, "b-key.pem")]);
      assert.equal(junk.code, 2);
      assert.match(junk.stderr, /--cert .*junk\.pem is not a PEM certificate/);
      const badKey = await run(["--cert", join(dir, "a-cert.pem"), "--key", join(dir, "junk.pem")]);
      assert.equal(badKey.code, 2);
      assert.match(badKey.stderr, /--key .*junk\.pem is not a PEM private key/);
      const mixed = await run(["--cert", join(dir, "a-cert.pem"), "--key", join(dir, "b-key.pem")]);
      assert.equal(mixed.code, 2);
      assert.match(mixed.stderr, /--key .*b-key\.pem does not belong to --cert .*a-cert\.pem/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "cli startup: a missing --root and an unopenable log file refuse to start",
  needs("read", "write", "run"),
  async () => {
    const root = await run(["--no-https", "--root", "/no/such/dir"]);
    assert.equal(root.code, 2);
    assert.match(root.stderr, /--root \/no\/such\/dir cannot be read/);
    const log = await run(["--no-https", "--log-file", "/no/such/dir/access.log"]);
    assert.equal(log.code, 2);
    assert.match(log.stderr, /--log-file \/no\/such\/dir\/access\.log cannot be opened/);
    const err = await run(["--no-https", "--error-log", "/no/such/dir/error.log"]);
    assert.equal(err.code, 2);
    assert.match(err.stderr, /--error-log \/no\/such\/dir\/error\.log cannot be opened/);
  },
);

Deno.test(
  "cli startup: the banner names the version, root, app, logs and workers",
  needs("read", "write", "run"),
  async () => {
    await using child = await startChild(["--port", "0", "--no-https", "--log-format", "json"]);
    await new Promise((r) => setTimeout(r, 0));
    const { until } = await import("../helpers/server.ts");
    await until(() => /ferry \d+\.\d+\.\d+: /.test(child.stdout()), "the banner");
    assert.match(
      child.stdout(),
      /ferry \d+\.\d+\.\d+: root \S+, app the built-in app, access log stdout \(json\), errors stderr, 1 isolate/,
    );
  },
);

Deno.test(
  "cli startup: --help is grouped, shows sizes as people write them, the environment and examples",
  needs("read", "write", "run"),
  async () => {
    const r = await run(["--help"]);
    assert.equal(r.code, 0);
    for (
      const heading of [
        "Listeners:",
        "TLS:",
        "Static files:",
        "Uploads:",
        "Apps:",
        "Limits and timeouts:",
        "Logs and metrics:",
      ]
    ) {
      assert.ok(r.stdout.includes(`\n${heading}\n`), heading);
    }
    assert.match(r.stdout, /--cache-max-bytes <size>[\s\S]*?\(default: 64M\)/);
    assert.match(r.stdout, /--max-body-bytes <size>[\s\S]*?\(default: 100M\)/);
    assert.doesNotMatch(r.stdout, /\(default: ""\)/);
    assert.doesNotMatch(r.stdout, /67108864/);
    assert.match(r.stdout, /FERRY_AUTH_USER, FERRY_AUTH_PASS/);
    assert.match(r.stdout, /Examples:/);
  },
);
