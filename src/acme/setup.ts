/**
 * Start-up of automatic HTTPS: the `--acme-*` flags checked against the file system (the CA roots
 * file, the storage directory) into an {@linkcode AcmeConfig}, and the banner line that says which
 * names are served by which issuer.
 *
 * @module
 */

import { join } from "path";
import type { AcmeConfig, AcmeIssuer } from "./issuer.ts";
import type { AcmeFlags } from "./acme_options.ts";

/**
 * The issuer's settings from the flags; a string (one line naming the flag) when one cannot be used.
 *
 * @example
 * ```ts ignore
 * const config = await acmeConfig(flags);
 * if (typeof config === "string") { console.error(`ferry: ${config}`); Deno.exit(2); }
 * ```
 */
export async function acmeConfig(flags: AcmeFlags): Promise<AcmeConfig | string> {
  const caCerts: string[] = [];
  if (flags.caCertFile !== "") {
    let text: string;
    try {
      text = await Deno.readTextFile(flags.caCertFile);
    } catch (e) {
      return `--acme-ca-cert ${flags.caCertFile} cannot be read (${e instanceof Error ? e.message : e})`;
    }
    const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (pems.length === 0) return `--acme-ca-cert ${flags.caCertFile} holds no PEM certificate`;
    caCerts.push(...pems.map((p) => p + "\n"));
  }
  try {
    await Deno.mkdir(flags.dir, { recursive: true, mode: 0o700 });
    const probe = join(flags.dir, `.probe-${crypto.randomUUID()}`);
    await Deno.writeTextFile(probe, "", { createNew: true });
    await Deno.remove(probe);
  } catch (e) {
    return `--acme-dir ${flags.dir} is not a writable directory (${e instanceof Error ? e.message : e})`;
  }
  return {
    domains: flags.domains,
    email: flags.email,
    directory: flags.directory,
    caCerts,
    dir: flags.dir,
    renewBeforeDays: flags.renewBeforeDays,
  };
}

/**
 * The start-up line: each name and what serves it now.
 *
 * @example
 * ```ts ignore
 * console.log(acmeBanner(issuer)); // ferry: automatic HTTPS from https://…: a.example (Pebble …, expires …)
 * ```
 */
export function acmeBanner(issuer: AcmeIssuer): string {
  const names = issuer.status.map((s) =>
    s.notAfter === 0
      ? `${s.name} (self-signed until issued)`
      : `${s.name} (issuer ${s.issuer}, expires ${new Date(s.notAfter).toISOString()})`
  );
  return `ferry: automatic HTTPS from ${issuer.config.directory} (stored in ${issuer.config.dir}): ${
    names.join(", ")
  }`;
}
