/**
 * A certificate reload drops nothing (issue 34, finding 13), with ferry started as users start it
 * and real SIGHUPs: the HTTPS listener is replaced by a new one opened with SO_REUSEPORT before
 * the old one closes, and the old one closes once it has taken its backlog, so TLS clients
 * connecting all along are never refused (and almost never reset: see the test).
 */

import assert from "assert";
import { needs } from "../helpers/needs.ts";
import { startChild, until } from "../helpers/server.ts";

const enc = new TextEncoder();

/** One TLS exchange: connect, handshake, `GET /_health`, read to the end. The outcome's name. */
async function oneExchange(port: number, ca: string): Promise<string> {
  let conn: Deno.TlsConn | undefined;
  let stage = "connect";
  try {
    conn = await Deno.connectTls({ hostname: "localhost", port, caCerts: [ca] });
    stage = "handshake";
    await conn.handshake();
    stage = "write";
    await conn.write(enc.encode("GET /_health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
    stage = "read";
    let text = "";
    const buf = new Uint8Array(4096);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    return text.startsWith("HTTP/1.1 200 ") ? "ok" : `answer: ${text.slice(0, 40)}`;
  } catch (e) {
    if (e instanceof Deno.errors.ConnectionRefused) return "refused";
    if (e instanceof Deno.errors.ConnectionReset) return "reset " + stage;
    return `error: ${e instanceof Error ? `${e.name}: ${e.message}` : e}`;
  } finally {
    try {
      conn?.close();
    } catch {
      // closed
    }
  }
}

Deno.test(
  "tls reload: 20 SIGHUPs under a TLS connect loop refuse no connection",
  needs("read", "write", "run"),
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      await using ferry = await startChild(
        ["--port", "0", "--https-port", "0", "--cert-dir", dir, "--log-format", "none"],
        2,
      );
      const port = Number(new URL(ferry.urls.find((u) => u.startsWith("https"))!).port);
      const ca = await Deno.readTextFile(`${dir}/localhost-cert.pem`);
      const outcomes = new Map<string, number>();
      let stop = false;
      const loops = Array.from({ length: 16 }, async () => {
        while (!stop) {
          const o = await oneExchange(port, ca);
          outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
        }
      });
      const reloads = 20;
      for (let i = 1; i <= reloads; i++) {
        const seen = outcomes.get("ok") ?? 0;
        await until(() => (outcomes.get("ok") ?? 0) >= seen + 5, "connections between reloads");
        ferry.child.kill("SIGHUP");
        await until(() => ferry.stdout().split("certificate reloaded").length - 1 >= i, `reload ${i}`);
      }
      const last = outcomes.get("ok") ?? 0;
      await until(() => (outcomes.get("ok") ?? 0) >= last + 5, "connections after the last reload");
      stop = true;
      await Promise.all(loops);
      assert.doesNotMatch(ferry.stderr(), /reload failed/);
      const seen = JSON.stringify([...outcomes]);
      const count = (prefix: string) =>
        [...outcomes].filter(([o]) => o.startsWith(prefix)).reduce((n, [, k]) => n + k, 0);
      const total = [...outcomes].reduce((n, [, k]) => n + k, 0);
      // The new listener is open before the old one closes: never a moment with no listener.
      assert.equal(count("refused"), 0, `outcomes: ${seen}`);
      // The kernel resets what waits in a closing listener's backlog (unless
      // net.ipv4.tcp_migrate_req=1, which moves it to the new listener: 0 resets in 3 runs of this
      // test in a network namespace with it). The old listener closes once it has taken its
      // backlog, which leaves the window of one turn of the event loop: 0.1-2.5 % of this
      // saturating loop's connections (before: 1.4-10 %, and 2-10 refused).
      assert.ok(count("reset") <= total / 20, `outcomes: ${seen}`);
      assert.equal(count("ok") + count("reset"), total, `outcomes: ${seen}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
