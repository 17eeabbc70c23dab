/**
 * The automatic-HTTPS flags (`--acme-*`), declared once in {@linkcode ACME_OPTIONS}: their rules,
 * defaults and help lines drive the command line, `--help` and the README's flags table.
 *
 * @module
 */

import { isIP } from "node:net";
import { option, type OptionTableOf, type Rule, text } from "../option_spec.ts";

/** Let's Encrypt's production directory, the default of `--acme-directory`. */
export const LETS_ENCRYPT = "https://acme-v02.api.letsencrypt.org/directory";
/** Let's Encrypt's staging directory, for trials. */
export const LETS_ENCRYPT_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory";

/** The `--acme-*` flags as given (the CA roots file is read at start). */
export interface AcmeFlags {
  /** `--acme-domain`: names, lower case, in order, without repeats. @default {[]} */
  domains: string[];
  /** `--acme-email` ("" when not given). @default {""} */
  email: string;
  /** `--acme-directory`. @default {LETS_ENCRYPT} */
  directory: string;
  /** `--acme-ca-cert` ("" when not given). @default {""} */
  caCertFile: string;
  /** `--acme-dir`. @default {"./certs/acme"} */
  dir: string;
  /** `--acme-renew-before`, days. @default {30} */
  renewBeforeDays: number;
}

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Why `name` (lower case) cannot be ordered over http-01; undefined when it can. */
function nameProblem(name: string): string | undefined {
  if (name.includes("*")) return `${name}: wildcard names need the dns-01 challenge; give each name instead`;
  if (isIP(name) !== 0 || /^\d+(\.\d+){3}$/.test(name)) {
    return `${name}: expected a DNS name, not an IP address`;
  }
  if (!DNS_NAME.test(name)) return `${name}: expected a DNS name like example.org`;
  return undefined;
}

/** DNS names, comma-separated (the flag may be repeated: its values are joined). */
export const domainList: Rule<string[]> = {
  arg: "<names>",
  expected: "DNS names, like example.org,www.example.org",
  parse(t: string): string[] {
    const out: string[] = [];
    for (const raw of t.split(",")) {
      const name = raw.trim().toLowerCase().replace(/\.$/, "");
      if (name === "") continue;
      const why = nameProblem(name);
      if (why !== undefined) throw new RangeError(why);
      if (!out.includes(name)) out.push(name);
    }
    if (out.length === 0) throw new RangeError("expected one or more DNS names, like example.org");
    return out;
  },
  problem(v: unknown): string | undefined {
    if (!Array.isArray(v) || !v.every((n) => typeof n === "string")) return "must be a list of DNS names";
    for (const n of v) {
      const why = nameProblem(n);
      if (why !== undefined) return `is not valid: ${why}`;
    }
    return undefined;
  },
  show: (v) => v.join(","),
};

/** A number of days >= 0 (fractions allowed), taken as given. */
const days: Rule<number> = {
  arg: "<days>",
  expected: "a number of days >= 0, like 30",
  parse(t: string): number {
    if (!/^\d+(\.\d+)?$/.test(t)) throw new RangeError("expected a number of days >= 0, like 30");
    return Number(t);
  },
  problem: (v) =>
    typeof v === "number" && Number.isFinite(v) && v >= 0 ? undefined : "must be a number of days >= 0",
};

const G = "Automatic HTTPS (ACME):";

/** The `--acme-*` flags. */
export const ACME_OPTIONS: OptionTableOf<AcmeFlags> = {
  domains: option({
    flag: "acme-domain",
    rule: domainList,
    default: [] as string[],
    group: G,
    help: "get and renew certificates for these names from an ACME CA (repeat or comma-separate)",
  }),
  email: option({
    flag: "acme-email",
    rule: text(
      "<addr>",
      (v) => /^[^@\s,]+@[^@\s,]+$/.test(v) ? undefined : "expected an address like ops@example.org",
    ),
    default: "",
    group: G,
    help: "contact address of the ACME account",
  }),
  directory: option({
    flag: "acme-directory",
    rule: text("<url>", (v) => {
      try {
        const u = new URL(v);
        return u.protocol === "https:" || u.protocol === "http:" ? undefined : "expected an https:// URL";
      } catch {
        return `expected a URL like ${LETS_ENCRYPT}`;
      }
    }),
    default: LETS_ENCRYPT,
    group: G,
    help: `the ACME CA's directory (staging for trials: ${LETS_ENCRYPT_STAGING})`,
  }),
  caCertFile: option({
    flag: "acme-ca-cert",
    rule: text("<file>"),
    default: "",
    group: G,
    help: "PEM roots to trust for the ACME CA's own HTTPS (test CAs such as pebble)",
  }),
  dir: option({
    flag: "acme-dir",
    rule: text("<dir>"),
    default: "./certs/acme",
    group: G,
    help: "where the account key, certificate keys (0600) and certificates are kept",
  }),
  renewBeforeDays: option({
    flag: "acme-renew-before",
    rule: days,
    default: 30,
    group: G,
    help: "renew a certificate when it expires within DAYS (checked at start and in the background)",
  }),
};
