/**
 * What automatic HTTPS reports per name — which issuer serves it, when it expires, orders,
 * renewals and failures — and its renderings for `/_metrics` (JSON and Prometheus `ferry_acme_…`)
 * and the dashboard. The issuer keeps the list; a copy rides on the counters (`Stats.status`, an
 * extension point: the counters import nothing of automatic HTTPS) to the renderers.
 *
 * @module
 */

import type { Stats } from "../stats.ts";

/** The name automatic HTTPS's status list goes by on the counters. */
const ACME_STATUS = "acme";

/** The automatic-HTTPS status `stats` carries (empty without automatic HTTPS). */
export function acmeStatusOf(stats: Stats): AcmeNameStatus[] {
  return (stats.status.get(ACME_STATUS) ?? []) as AcmeNameStatus[];
}

/** Puts `list` on `stats` for the renderers (the issuer's owner calls it as the list changes). */
export function setAcmeStatus(stats: Stats, list: readonly AcmeNameStatus[]): void {
  stats.status.set(ACME_STATUS, list);
}

/** One name's state. */
export interface AcmeNameStatus {
  /** The DNS name. */
  name: string;
  /** Who issued the certificate served for it: the issuer's common name, or "self-signed". */
  issuer: string;
  /** Expiry of the served certificate, ms since the epoch (0: none issued yet). */
  notAfter: number;
  /** Orders this process placed that ended with a certificate. */
  orders: number;
  /** Of those, replacements of a certificate that existed. */
  renewals: number;
  /** Orders that failed. */
  failures: number;
  /** The last failure, as the CA put it ("" when the last attempt succeeded). */
  lastError: string;
}

const DAY_MS = 86_400_000;

/** Days from `now` to a name's expiry (negative once expired; NaN when none issued). */
export function daysToExpiry(s: AcmeNameStatus, now: number = Date.now()): number {
  return s.notAfter === 0 ? NaN : (s.notAfter - now) / DAY_MS;
}

/**
 * The `acme` part of the JSON metrics.
 *
 * @example
 * ```ts ignore
 * json.acme = acmeJson(acmeStatusOf(stats));
 * ```
 */
export function acmeJson(list: AcmeNameStatus[], now: number = Date.now()): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of list) {
    const days = daysToExpiry(s, now);
    out[s.name] = {
      issuer: s.issuer,
      notAfter: s.notAfter === 0 ? null : new Date(s.notAfter).toISOString(),
      daysToExpiry: Number.isNaN(days) ? null : Math.round(days * 100) / 100,
      orders: s.orders,
      renewals: s.renewals,
      failures: s.failures,
      lastError: s.lastError,
    };
  }
  return out;
}

function label(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/**
 * The `ferry_acme_…` Prometheus families (text exposition format), empty without names.
 *
 * @example
 * ```ts ignore
 * text += acmePrometheus(acmeStatusOf(stats));
 * ```
 */
export function acmePrometheus(list: AcmeNameStatus[], now: number = Date.now()): string {
  if (list.length === 0) return "";
  let out = "";
  const family = (name: string, type: string, help: string, value: (s: AcmeNameStatus) => number) => {
    out += `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
    for (const s of list) {
      const v = value(s);
      if (!Number.isNaN(v)) out += `${name}{name="${label(s.name)}"} ${Math.round(v * 1000) / 1000}\n`;
    }
  };
  out +=
    "# HELP ferry_acme_certificate_info The issuer serving each automatic-HTTPS name; the value is 1.\n" +
    "# TYPE ferry_acme_certificate_info gauge\n";
  for (const s of list) {
    out += `ferry_acme_certificate_info{name="${label(s.name)}",issuer="${label(s.issuer)}"} 1\n`;
  }
  family(
    "ferry_acme_certificate_expiry_days",
    "gauge",
    "Days until the served certificate expires.",
    (s) => daysToExpiry(s, now),
  );
  family("ferry_acme_orders_total", "counter", "ACME orders that ended with a certificate.", (s) => s.orders);
  family("ferry_acme_renewals_total", "counter", "Certificates replaced before expiry.", (s) => s.renewals);
  family("ferry_acme_failures_total", "counter", "ACME orders that failed.", (s) => s.failures);
  return out;
}
