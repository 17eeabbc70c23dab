/**
 * The certificates the HTTPS listener serves: one default pair (the self-signed one, or `--cert`),
 * and per-name pairs (automatic HTTPS) picked by the SNI name a client asks for.
 *
 * Deno 2.9's `Deno.listenTls` takes one certificate; its undocumented `unstableSniResolver` option
 * (`Symbol.for("unstableSniResolver")`) asks a function for the pair of each server name, but
 * caches the answer per name for the listener's life. So a listener is built from a snapshot of this
 * store, and a change is served by a new listener opened beside the old one with `reusePort`, the
 * old one closed after it (see `Server`): open connections keep their sessions.
 *
 * @module
 */

import type { TlsMaterial } from "./material.ts";

const SNI_RESOLVER = Symbol.for("unstableSniResolver");

/**
 * Default and per-name certificates.
 *
 * @example
 * ```ts ignore
 * const store = new CertStore(selfSigned);
 * store.set("example.org", issued);
 * const listener = Deno.listenTls({ port: 443, ...store.listenOptions() } as Deno.ListenTlsOptions);
 * ```
 */
export class CertStore {
  #default: TlsMaterial | undefined;
  #names = new Map<string, TlsMaterial>();

  /** A store serving `fallback` to every name until others are set. */
  constructor(fallback?: TlsMaterial) {
    this.#default = fallback;
  }

  /** The pair for clients without a configured name (no SNI, or a name not set here). */
  get fallback(): TlsMaterial | undefined {
    return this.#default;
  }

  /** Replaces the default pair. */
  setDefault(material: TlsMaterial): void {
    this.#default = material;
  }

  /** Serves `material` to clients asking for `name` (lower case). */
  set(name: string, material: TlsMaterial): void {
    this.#names.set(name.toLowerCase(), material);
  }

  /** Whether any name has its own pair. */
  get hasNames(): boolean {
    return this.#names.size > 0;
  }

  /** The names with their own pair. */
  names(): string[] {
    return [...this.#names.keys()];
  }

  /** The pair for a server name (SNI); the default for an unknown or absent one. */
  pick(serverName: string): TlsMaterial | undefined {
    const name = serverName.toLowerCase().replace(/\.$/, "");
    const exact = this.#names.get(name);
    if (exact !== undefined) return exact;
    // A `*.name` pair covers one more label (RFC 6125 §6.4.3), as a config site's `*.b.test` host.
    const dot = name.indexOf(".");
    return (dot > 0 ? this.#names.get("*" + name.slice(dot)) : undefined) ?? this.#default;
  }

  /**
   * The certificate part of `Deno.listenTls` options for a listener serving the store as it is
   * now: a plain pair when there are no per-name pairs, otherwise an SNI resolver over a snapshot.
   */
  listenOptions(): Partial<Deno.TlsCertifiedKeyPem> {
    if (this.#names.size === 0) {
      if (this.#default === undefined) {
        throw new TypeError("https is on but no certificate and key were given");
      }
      return { cert: this.#default.cert, key: this.#default.key };
    }
    const snapshot = new CertStore(this.#default);
    for (const [n, m] of this.#names) snapshot.set(n, m);
    const resolve = (serverName: string) => {
      const m = snapshot.pick(serverName);
      if (m === undefined) throw new Error(`no certificate for ${JSON.stringify(serverName)}`);
      return { cert: m.cert, key: m.key };
    };
    return { [SNI_RESOLVER]: resolve } as unknown as Partial<Deno.TlsCertifiedKeyPem>;
  }
}
