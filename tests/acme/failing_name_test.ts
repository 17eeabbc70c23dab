/**
 * A name that cannot validate is retried with back-off and logged with the CA's problem type and
 * detail, while the other names are issued and served.
 */

import assert from "assert";
import { preparePebble } from "../helpers/pebble.ts";
import { startChild } from "../helpers/server.ts";
import {
  acmeArgs,
  httpPortOf,
  httpsPortOf,
  outputMatches,
  prometheus,
  sample,
  servedSerial,
} from "./acme_helpers.ts";
import { needs } from "../helpers/needs.ts";

Deno.test(
  "acme: a name that cannot validate is retried and logged while the others are served",
  needs("read", "write", "run"),
  async () => {
    const prepared = await preparePebble({ nonceReject: 0 });
    const work = await Deno.makeTempDir({ prefix: "ferry-acme-" });
    await using ferry = await startChild(
      acmeArgs(work, 0, prepared.directory, prepared.caFile, "good.test,bad.test"),
      2,
    );
    await using pebble = await prepared.start(httpPortOf(ferry));
    // bad.test resolves to an address where nothing listens: its http-01 validation fails.
    await pebble.addA("bad.test", "127.0.0.2");
    await Deno.writeTextFile(`${work}/root.pem`, await pebble.root());
    const port = httpsPortOf(ferry);
    await servedSerial(port, "good.test", `${work}/root.pem`);
    // The CA's problem, as it sent it, in the error log; the failure before it (CA down) was retried.
    await outputMatches(
      ferry,
      /certificate for bad\.test failed, retrying.*type=urn:ietf:params:acme:error:\w+ detail=\S/,
    );
    const m = await prometheus(port, work);
    assert.ok(sample(m, "ferry_acme_failures_total", "bad.test") >= 2, m);
    assert.equal(sample(m, "ferry_acme_orders_total", "bad.test"), 0);
    assert.equal(sample(m, "ferry_acme_orders_total", "good.test"), 1);
    assert.match(m, /ferry_acme_certificate_info\{name="bad\.test",issuer="self-signed"\} 1/);
  },
);
