/**
 * Shared steps of the automatic-HTTPS tests: ferry's arguments for a pebble, reading its
 * Prometheus metrics, and waiting for a name to be served by pebble's chain.
 *
 * @module
 */

import { type ChildServer, until } from "../helpers/server.ts";
import { tlsView } from "../helpers/pebble.ts";

/** ferry's flags for automatic HTTPS from `directory` on plain port `httpPort`. */
export function acmeArgs(
  work: string,
  httpPort: number,
  directory: string,
  caFile: string,
  domains: string,
  more: string[] = [],
): string[] {
  return [
    "--host",
    "127.0.0.1",
    "--port",
    String(httpPort),
    "--https-port",
    "0",
    "--cert-dir",
    `${work}/certs`,
    "--acme-dir",
    `${work}/acme`,
    "--acme-domain",
    domains,
    "--acme-directory",
    directory,
    "--acme-ca-cert",
    caFile,
    "--keepalive-timeout",
    "120",
    ...more,
  ];
}

/** The HTTPS port from a child's start-up lines. */
export function httpsPortOf(child: ChildServer): number {
  return Number(/https:\/\/127\.0\.0\.1:(\d+)/.exec(child.urls.join(" "))![1]);
}

/** The plain HTTP port from a child's start-up lines. */
export function httpPortOf(child: ChildServer): number {
  return Number(/http:\/\/127\.0\.0\.1:(\d+)/.exec(child.urls.join(" "))![1]);
}

/** ferry's Prometheus metrics over HTTPS without SNI (served by the self-signed certificate). */
export async function prometheus(port: number, work: string): Promise<string> {
  const client = Deno.createHttpClient({
    caCerts: [await Deno.readTextFile(`${work}/certs/localhost-cert.pem`)],
  });
  try {
    const r = await fetch(`https://127.0.0.1:${port}/_metrics?format=prometheus`, { client });
    return await r.text();
  } finally {
    client.close();
  }
}

/** A sample's value in Prometheus text (NaN when absent). */
export function sample(text: string, family: string, name: string): number {
  const m = new RegExp(`^${family}\\{name="${name.replace(/\./g, "\\.")}"\\} (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : NaN;
}

/** Waits until `name` is served with a chain that verifies to `rootFile`; returns the serial. */
export async function servedSerial(
  port: number,
  name: string,
  rootFile: string,
  ms = 30000,
): Promise<string> {
  let view = { serial: "", verified: false, chainLength: 0 };
  const give = Date.now() + ms;
  while (!view.verified || view.serial === "") {
    if (Date.now() > give) throw new Error(`${name} was not served with pebble's chain within ${ms} ms`);
    view = await tlsView(port, name, rootFile);
    if (!view.verified || view.serial === "") await new Promise((r) => setTimeout(r, 200));
  }
  return view.serial;
}

/** Waits until the child's output matches `re` `count` times. */
export async function outputMatches(child: ChildServer, re: RegExp, count = 1, ms = 30000): Promise<void> {
  await until(
    () => ((child.stdout() + child.stderr()).match(new RegExp(re.source, "g")) ?? []).length >= count,
    `${re} ×${count} in ferry's output`,
    ms,
  );
}
