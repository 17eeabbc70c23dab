/**
 * Replays ferry's RFC 9114 / RFC 9204 table (conformance_table.ts) through the request-stream and
 * unidirectional-stream parsers: whole, at every split point into two pieces, and one byte at a
 * time; each must give the table's outcome.
 */

import assert from "assert";
import { RequestStream } from "../../src/http3/request_stream.ts";
import { PeerStreams, UniStream } from "../../src/http3/control.ts";
import { H3Error, h3ErrorName } from "../../src/http3/errors.ts";
import { CASES, type H3Case, LIMIT, type Outcome } from "./conformance_table.ts";

const meter = { waste() {} };

/** Runs a request stream's bytes given in `pieces`; the outcome as the table writes it. */
function runRequest(pieces: Uint8Array[], fin: boolean): Outcome {
  const s = new RequestStream(meter, LIMIT);
  const events: string[] = [];
  let data = 0;
  const flush = () => {
    if (data > 0) events.push(`data ${data}`);
    data = 0;
  };
  try {
    const all = pieces.map((p) => s.push(p));
    if (fin) all.push(s.end());
    for (const ev of all.flat()) {
      if (ev.kind === "data") {
        data += ev.bytes.length;
        continue;
      }
      flush();
      if (ev.kind === "head") events.push(`head ${ev.fields.method} ${ev.fields.path}`);
      else if (ev.kind === "trailers") {
        events.push(`trailers ${ev.trailers.names.map((n, i) => `${n}=${ev.trailers.values[i]}`).join(" ")}`);
      } else if (ev.kind === "end") events.push("end");
      else {
        if (!events.some((e) => e.startsWith("head"))) return { reject: ev.status };
        // How much of the body came before the cut depends on the split: the table says none.
        if (events[events.length - 1].startsWith("data")) events.pop();
        events.push(`reject ${ev.status}`);
      }
    }
  } catch (e) {
    if (e instanceof H3Error) return { error: h3ErrorName(e.code) };
    throw e;
  }
  flush();
  return { events };
}

/** Runs unidirectional streams (each split into `split(bytes)` pieces); the last one ends when `fin`. */
function runUni(streams: Uint8Array[], split: (b: Uint8Array) => Uint8Array[], fin: boolean): Outcome {
  const peer = new PeerStreams(meter);
  const events: string[] = [];
  try {
    streams.forEach((bytes, i) => {
      const s = new UniStream(peer, 16 * 1024);
      for (const piece of split(bytes)) {
        for (const ev of s.push(piece)) {
          if (ev.kind === "settings") {
            const pairs = [...ev.settings].map(([k, v]) => `${k}=${v}`).join(" ");
            events.push(pairs === "" ? "settings" : `settings ${pairs}`);
          } else events.push(`goaway ${ev.id}`);
        }
      }
      if (fin && i === streams.length - 1) s.end();
    });
  } catch (e) {
    if (e instanceof H3Error) return { error: h3ErrorName(e.code) };
    throw e;
  }
  return { events };
}

function splits(bytes: Uint8Array): Array<(b: Uint8Array) => Uint8Array[]> {
  const out: Array<(b: Uint8Array) => Uint8Array[]> = [(b) => [b]];
  for (let at = 1; at < bytes.length; at++) out.push((b) => [b.subarray(0, at), b.subarray(at)]);
  out.push((b) => [...b].map((x) => new Uint8Array([x])));
  return out;
}

function check(c: H3Case): void {
  if (c.request !== undefined) {
    for (const split of splits(c.request)) {
      assert.deepEqual(runRequest(split(c.request), c.fin ?? true), c.expect, `${c.section} ${c.name}`);
    }
  } else {
    const streams = c.uni!;
    const last = streams[streams.length - 1];
    for (const split of splits(last)) {
      const apply = (b: Uint8Array) => b === last ? split(b) : [b];
      assert.deepEqual(runUni(streams, apply, c.fin ?? false), c.expect, `${c.section} ${c.name}`);
    }
  }
}

for (const c of CASES) {
  Deno.test(`h3 conformance ${c.section}: ${c.name}`, () => check(c));
}

Deno.test("h3 conformance: the table covers every outcome kind and each error code it names", () => {
  const kinds = new Set(CASES.map((c) => Object.keys(c.expect)[0]));
  assert.deepEqual([...kinds].sort(), ["error", "events", "reject"]);
  assert.ok(CASES.length >= 70, `${CASES.length} cases`);
});
