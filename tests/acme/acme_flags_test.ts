/**
 * The `--acme-*` flags: values parsed as documented, and bad ones (or bad combinations) refused
 * with one line naming the flag and exit status 2.
 */

import assert from "assert";
import { parseCli } from "../../src/cli.ts";
import { runFerry } from "../helpers/server.ts";
import { needs } from "../helpers/needs.ts";

Deno.test("acme flags: repeated and comma-separated names, defaults", () => {
  const c = parseCli([
    "--acme-domain",
    "A.example.org,b.example.org",
    "--acme-domain",
    "c.example.org,a.example.org",
  ]);
  assert.deepEqual(c.acme?.domains, ["a.example.org", "b.example.org", "c.example.org"]);
  assert.equal(c.acme?.directory, "https://acme-v02.api.letsencrypt.org/directory");
  assert.equal(c.acme?.dir, "./certs/acme");
  assert.equal(c.acme?.renewBeforeDays, 30);
  assert.equal(
    parseCli(["--acme-domain", "x.org", "--acme-renew-before", "4000"]).acme?.renewBeforeDays,
    4000,
  );
  assert.equal(parseCli([]).acme, undefined);
});

Deno.test("acme flags: bad values and combinations exit 2 naming the flag", needs("read"), async () => {
  const cases: Array<[string[], RegExp]> = [
    [["--acme-domain", "*.example.org"], /--acme-domain.*wildcard/],
    [["--acme-domain", "127.0.0.1"], /--acme-domain.*not an IP/],
    [["--acme-domain", "bad_name!"], /--acme-domain.*DNS name/],
    [["--acme-domain", "a.org", "--acme-renew-before", "-1"], /--acme-renew-before/],
    [["--acme-domain", "a.org", "--acme-directory", "ftp://x"], /--acme-directory/],
    [["--acme-domain", "a.org", "--acme-email", "nobody"], /--acme-email/],
    [["--acme-domain", "a.org", "--cert", "c.pem", "--key", "k.pem"], /--acme-domain excludes --cert/],
    [["--acme-domain", "a.org", "--no-http"], /--acme-domain needs the HTTP listener/],
    [["--acme-email", "ops@example.org"], /--acme-email needs --acme-domain/],
    [["--acme-domain", "a.org", "--acme-ca-cert", "/nonexistent/roots.pem"], /--acme-ca-cert \/nonexistent/],
  ];
  for (const [args, re] of cases) {
    const run = await runFerry(args);
    assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    assert.match(run.stderr, re, args.join(" "));
    assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
  }
});
