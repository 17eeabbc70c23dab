/**
 * llhttp's strict request fixtures sent to a live ferry server over a socket (with `Host` added
 * where an HTTP/1.1 fixture lacks one). The server must accept and answer what llhttp accepts,
 * and refuse (4xx/5xx, then close) what llhttp refuses, but for the deliberate differences of
 * `tests/http1/deviations.ts`.
 */

import assert from "assert";
import { FIXTURES_PRESENT, loadStrictFixtures, SKIPPED_NOTE, withHost } from "../http1/llhttp_fixtures.ts";
import { presentOrSkip } from "../helpers/skip.ts";
import { expectationFor } from "../http1/deviations.ts";
import { RawClient, type RawResponse } from "../helpers/client.ts";
import { startServer } from "../helpers/server.ts";
import type { Handler } from "../../src/mod.ts";

/** Statuses by which ferry refuses a request. */
const REFUSALS = new Set([400, 411, 413, 414, 417, 431, 501, 505]);

/** Reads each body fully before answering, so an incomplete body gets no response. */
const echo: Handler = async function echo(req, res) {
  const body = await req.body.bytes();
  await res.send(200, [], body);
};

for (const f of presentOrSkip(FIXTURES_PRESENT, SKIPPED_NOTE) ? loadStrictFixtures() : []) {
  const exp = expectationFor(f);
  Deno.test({
    name: `llhttp live ${f.name}`,
    ignore: exp === undefined,
    fn: async () => {
      await using s = await startServer({ handler: echo });
      await using c = await RawClient.connect(s.port);
      await c.send(withHost(f));
      await c.closeWrite();
      const responses: RawResponse[] = [];
      for (;;) {
        if (c.buffered.length === 0 && (await c.poll(2000)) === 0) break;
        responses.push(await c.response());
      }
      const accepted = responses.filter((r) => !REFUSALS.has(r.status));
      const summary = responses.map((r) => r.status).join(",") || "none";
      if (exp!.compareOnlyFirst) {
        assert.ok(
          responses.slice(0, exp!.messages).every((r) => r.status === 200) &&
            responses.length >= exp!.messages,
          `expected the first ${exp!.messages} request(s) answered 200, got ${summary}`,
        );
        return;
      }
      if (exp!.reject) {
        assert.ok(
          responses.length > 0 && REFUSALS.has(responses.at(-1)!.status),
          `expected a refusal, got ${summary}`,
        );
        assert.equal(accepted.length, exp!.messages, `responses: ${summary}`);
      } else {
        assert.equal(accepted.length, exp!.messages, `responses: ${summary}`);
        assert.equal(responses.length, accepted.length, `no refusal expected, got ${summary}`);
      }
    },
  });
}
