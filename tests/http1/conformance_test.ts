/**
 * llhttp's strict request fixtures through ferry's parser and body decoders, delivered whole,
 * split in two at every offset, and one byte at a time. Accept/reject must agree with llhttp,
 * except for the deliberate differences named in `deviations.ts`.
 */

import assert from "assert";
import { presentOrSkip } from "../helpers/skip.ts";
import { FIXTURES_PRESENT, loadStrictFixtures, SKIPPED_NOTE, withHost } from "./llhttp_fixtures.ts";
import { DEVIATIONS, type Expectation, expectationFor } from "./deviations.ts";
import { replay, type ReplayResult, split } from "../helpers/replay.ts";

const fixtures = loadStrictFixtures();

function mismatch(exp: Expectation, r: ReplayResult): string | undefined {
  const got = `${r.error ? `reject ${r.error.status} ${r.error.code} (${r.error.message})` : "accept"}, ` +
    `${r.messages.length} message(s)`;
  if (exp.compareOnlyFirst) {
    return r.messages.length >= exp.messages
      ? undefined
      : `expected ${exp.messages} head(s) accepted, got ${got}`;
  }
  if (exp.reject !== (r.error !== undefined) || exp.messages !== r.messages.length) {
    return `expected ${exp.reject ? "reject" : "accept"} after ${exp.messages} message(s), got ${got}`;
  }
  return undefined;
}

presentOrSkip(FIXTURES_PRESENT, SKIPPED_NOTE);

Deno.test({
  name: "llhttp fixtures: the strict set is present and the deviation table names real cases",
  ignore: !FIXTURES_PRESENT,
  fn: () => {
    assert.ok(fixtures.length >= 100, `only ${fixtures.length} strict fixtures found`);
    const names = new Set(fixtures.map((f) => f.name));
    for (const name of Object.keys(DEVIATIONS)) {
      assert.ok(names.has(name), `deviation for unknown fixture: ${name}`);
    }
  },
});

for (const f of fixtures) {
  const exp = expectationFor(f);
  Deno.test({
    name: `llhttp parser ${f.name}`,
    ignore: exp === undefined,
    fn: async () => {
      const input = withHost(f);
      const whole = await replay([input]);
      assert.equal(mismatch(exp!, whole), undefined, "whole input");
      for (let i = 1; i < input.length; i++) {
        const r = await replay(split(input, [i]));
        assert.equal(mismatch(exp!, r), undefined, `split at ${i}`);
      }
      const bytes = Array.from({ length: input.length - 1 }, (_, i) => i + 1);
      assert.equal(mismatch(exp!, await replay(split(input, bytes))), undefined, "one byte at a time");
    },
  });
}
