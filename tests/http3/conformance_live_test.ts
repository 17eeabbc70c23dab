/**
 * Replays ferry's RFC 9114 / RFC 9204 table (conformance_table.ts) against a live server over
 * QUIC, one connection per case: connection errors must close the connection with their code,
 * refusals must come back as their status, accepted requests must be answered, and accepted
 * unidirectional streams must leave the connection serving.
 */

import assert from "assert";
import { startServer } from "../helpers/server.ts";
import { makeSelfSigned } from "../../src/tls/cert.ts";
import type { Handler } from "../../src/mod.ts";
import { H3 } from "../../src/http3/errors.ts";
import { H3Client } from "./h3_client.ts";
import { get } from "./h3_kit.ts";
import { CASES, type H3Case, LIMIT } from "./conformance_table.ts";
import { needsQuic } from "./needs_quic.ts";

const material = await makeSelfSigned();
const answer: Handler = async (req, res) => {
  await req.body.bytes();
  await res.send(200, [["content-type", "text/plain"]], "ok");
};

/** Resolves with `p`, or rejects naming `what` after 10 s. */
function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) =>
    timer = setTimeout(() => reject(new Error(`no ${what}`)), 10000)
  );
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

async function live(port: number, c: H3Case): Promise<void> {
  const label = `${c.section} ${c.name}`;
  await using client = await H3Client.connect(port, material.cert, c.uni !== undefined);
  const e = c.expect;
  if (c.request !== undefined) {
    const res = client.raw(c.request, c.fin ?? true).catch(() => undefined);
    if ("error" in e) {
      const closed = await within(client.closed, `close for ${label}`);
      assert.equal(closed.closeCode, H3[e.error as keyof typeof H3], label);
    } else if ("reject" in e) {
      assert.equal((await within(res, label))?.status, e.reject, label);
    } else {
      const r = await within(res, label);
      const last = e.events[e.events.length - 1];
      if (last === "end") {
        assert.ok(r !== undefined && r.status >= 200 && r.status !== 400 && r.status !== 431, label);
      } else {assert.ok(
          !(r?.complete && r.status === 200),
          `${label}: a cut request is not answered as whole`,
        );}
    }
    return;
  }
  const streams = c.uni!;
  for (let i = 0; i < streams.length; i++) {
    await client.uni(streams[i], i === streams.length - 1 && (c.fin ?? false));
  }
  if ("error" in e) {
    const closed = await within(client.closed, `close for ${label}`);
    assert.equal(closed.closeCode, H3[e.error as keyof typeof H3], label);
  } else {
    const r = await within(client.request(get("/after")), label);
    assert.equal(r.status, 200, `${label}: the connection still serves`);
  }
}

Deno.test(
  "h3 conformance live: every case of the table against a server over QUIC",
  needsQuic("read", "write", "run"),
  async () => {
    await using s = await startServer({
      https: true,
      httpsPort: 0,
      tlsMaterial: material,
      http3: true,
      handler: answer,
      maxHeaderBytes: LIMIT,
    });
    const failures: string[] = [];
    for (const c of CASES) {
      try {
        await live(s.httpsPort, c);
      } catch (err) {
        failures.push(`${c.section} ${c.name}: ${(err as Error).message.split("\n")[0]}`);
      }
    }
    assert.deepEqual(failures, []);
  },
);
