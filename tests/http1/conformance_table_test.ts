/**
 * ferry's own conformance table through the parser and body decoders, delivered whole, split in
 * two at every offset, and one byte at a time. Needs nothing outside the repository.
 */

import assert from "assert";
import { CONFORMANCE, type ConformanceCase } from "./conformance_table.ts";
import { replay, type ReplayResult, split } from "../helpers/replay.ts";

const enc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

function mismatch(c: ConformanceCase, r: ReplayResult): string | undefined {
  const got = `${
    r.error ? `reject ${r.error.status} ${r.error.code}` : "accept"
  }, ${r.messages.length} message(s)`;
  if (r.messages.length !== c.answered) return `expected ${c.answered} message(s), got ${got}`;
  if (c.status !== undefined) {
    // The connection answers CONNECT; at the byte level the replay refuses it as a method.
    const code = c.code === "connect" ? "unknown_method" : c.code;
    if (r.error?.status !== c.status || r.error.code !== code) {
      return `expected ${c.status} ${code}, got ${got}`;
    }
    return undefined;
  }
  if (r.error !== undefined || r.incomplete) return `expected no refusal, got ${got}`;
  if (c.closes === true && !r.closed) return "expected the message to close the connection";
  if (c.closes !== true && r.closed) return "the connection was closed where it should persist";
  if (c.bodies !== undefined) {
    const bodies = r.messages.map((m) => new TextDecoder().decode(m.body));
    if (bodies.join("|") !== c.bodies.join("|")) return `bodies ${JSON.stringify(bodies)}`;
  }
  return undefined;
}

Deno.test("conformance table: names are unique and every refusal names its reason", () => {
  const names = new Set<string>();
  for (const c of CONFORMANCE) {
    assert.ok(!names.has(c.name), `duplicate row: ${c.name}`);
    names.add(c.name);
    assert.equal(c.status === undefined, c.code === undefined, `${c.name}: status and code go together`);
  }
  assert.ok(CONFORMANCE.length >= 60);
});

for (const c of CONFORMANCE) {
  Deno.test(`conformance parser: ${c.name} (${c.rule})`, async () => {
    const input = enc(c.request);
    assert.equal(mismatch(c, await replay([input])), undefined, "whole input");
    for (let i = 1; i < input.length; i++) {
      assert.equal(mismatch(c, await replay(split(input, [i]))), undefined, `split at ${i}`);
    }
    const bytes = Array.from({ length: input.length - 1 }, (_, i) => i + 1);
    assert.equal(mismatch(c, await replay(split(input, bytes))), undefined, "one byte at a time");
  });
}
