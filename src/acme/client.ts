/**
 * The ACME transport (RFC 8555 §6, §7.1.1, §7.2): the CA's directory, a pool of replay nonces, and
 * signed POSTs. A `badNonce` rejection is retried with the nonce its own response carries, as many
 * times as the CA keeps rejecting (up to a bound), as §6.5 allows.
 *
 * @module
 */

import { type AccountKey, type JwsIdentity, signJws } from "./jws.ts";
import { ACME_ERROR, AcmeProblem, type ProblemDocument } from "./problem.ts";
import { readBounded } from "./bounded_read.ts";

/** The directory's resources (RFC 8555 §7.1.1). */
export interface Directory {
  /** New nonce URL. */
  newNonce: string;
  /** New account URL. */
  newAccount: string;
  /** New order URL. */
  newOrder: string;
  /** ACME Renewal Information (RFC 9773), when the CA offers it. */
  renewalInfo?: string;
  /** Terms of service and so on. */
  meta?: Record<string, unknown>;
}

/** A response to a signed request. */
export interface AcmeResponse {
  /** HTTP status. */
  status: number;
  /** Response headers. */
  headers: Headers;
  /** The body: parsed JSON when it is JSON, else the text. */
  body: unknown;
}

/** Options of {@linkcode AcmeClient}. */
export interface AcmeClientOptions {
  /** PEM roots to trust for the CA's own HTTPS, besides the system's. @default {[]} */
  caCerts?: string[];
  /** Signed requests retried after `badNonce` at most. @default {10} */
  maxNonceRetries?: number;
  /** Called at each `badNonce` retry, with the URL. */
  onBadNonce?: (url: string) => void;
}

/** How long to wait for a response from the CA. */
const REQUEST_TIMEOUT_MS = 30_000;
/** The directory is fetched again when older than this (and at each order: see `orderCertificate`). */
export const DIRECTORY_TTL_MS = 3600_000;

/**
 * Talks to one ACME CA.
 *
 * @example
 * ```ts ignore
 * const client = new AcmeClient("https://acme-staging-v02.api.letsencrypt.org/directory");
 * const res = await client.post((await client.directory()).newOrder, payload, key, { kid });
 * ```
 */
export class AcmeClient {
  /** The directory URL. */
  readonly directoryUrl: string;
  /** Nonces the CA gave that are not used yet. */
  #nonces: string[] = [];
  #directory: Directory | undefined;
  #directoryAt = 0;
  #http: Deno.HttpClient | undefined;
  #maxNonceRetries: number;
  #onBadNonce: ((url: string) => void) | undefined;
  /** `badNonce` rejections met (and retried). */
  badNonces = 0;

  /** A client for the CA whose directory is at `directoryUrl`. */
  constructor(directoryUrl: string, options: AcmeClientOptions = {}) {
    this.directoryUrl = directoryUrl;
    const ca = options.caCerts ?? [];
    if (ca.length > 0) this.#http = Deno.createHttpClient({ caCerts: ca });
    this.#maxNonceRetries = options.maxNonceRetries ?? 10;
    this.#onBadNonce = options.onBadNonce;
  }

  /** Releases the HTTP client. */
  close(): void {
    this.#http?.close();
  }

  async #fetch(url: string, init: RequestInit): Promise<Response> {
    const signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    try {
      return await fetch(url, { ...init, signal, ...(this.#http ? { client: this.#http } : {}) });
    } catch (e) {
      throw new Error(`cannot reach the ACME server at ${url}: ${e instanceof Error ? e.message : e}`);
    }
  }

  /**
   * The directory, fetched again when the copy kept is older than `maxAgeMs` (0: always), so a
   * CA's change of its URLs is seen and nothing the CA sent is kept for the process's life.
   */
  async directory(maxAgeMs = DIRECTORY_TTL_MS): Promise<Directory> {
    if (this.#directory !== undefined && Date.now() - this.#directoryAt < maxAgeMs) return this.#directory;
    const url = this.directoryUrl;
    const res = await this.#fetch(url, { headers: { accept: "application/json" } });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`the ACME directory ${url} answered ${res.status}: check --acme-directory`);
    }
    let dir: Directory;
    try {
      dir = JSON.parse(await readBounded(res, url)) as Directory;
    } catch (e) {
      if (e instanceof SyntaxError) {
        throw new Error(`${url} is not an ACME directory (not JSON): check --acme-directory`);
      }
      throw e;
    }
    if (dir === null || typeof dir.newNonce !== "string" || typeof dir.newOrder !== "string") {
      throw new Error(`${url} is not an ACME directory: check --acme-directory`);
    }
    this.#directory = { newNonce: dir.newNonce, newAccount: dir.newAccount, newOrder: dir.newOrder };
    this.#directoryAt = Date.now();
    return this.#directory;
  }

  async #nonce(): Promise<string> {
    const kept = this.#nonces.pop();
    if (kept !== undefined) return kept;
    const res = await this.#fetch((await this.directory()).newNonce, { method: "HEAD" });
    await res.body?.cancel();
    const nonce = res.headers.get("replay-nonce");
    if (nonce === null) throw new Error(`the ACME server gave no Replay-Nonce at ${this.directoryUrl}`);
    return nonce;
  }

  /**
   * A signed POST (`payload` undefined: POST-as-GET). Resolves with 2xx responses; throws
   * {@linkcode AcmeProblem} for the CA's errors, after retrying `badNonce` ones.
   */
  async post(
    url: string,
    payload: unknown,
    key: AccountKey,
    who: JwsIdentity,
    accept = "application/json",
  ): Promise<AcmeResponse> {
    let nonce = await this.#nonce();
    for (let attempt = 0;; attempt++) {
      const jws = await signJws(key, who, url, nonce, payload);
      const res = await this.#fetch(url, {
        method: "POST",
        headers: { "content-type": "application/jose+json", accept },
        body: JSON.stringify(jws),
      });
      const fresh = res.headers.get("replay-nonce");
      const type = res.headers.get("content-type") ?? "";
      const text = await readBounded(res, url);
      let body: unknown = text;
      if (type.includes("json")) {
        try {
          body = JSON.parse(text);
        } catch {
          body = null;
        }
      }
      if (res.ok) {
        if (fresh !== null) this.#nonces.push(fresh);
        return { status: res.status, headers: res.headers, body };
      }
      const doc =
        (body !== null && typeof body === "object" ? body : { detail: String(body) }) as ProblemDocument;
      if (doc.type === ACME_ERROR + "badNonce" && fresh !== null && attempt < this.#maxNonceRetries) {
        // RFC 8555 §6.5: retry with the nonce this error response carries.
        this.badNonces++;
        this.#onBadNonce?.(url);
        nonce = fresh;
        continue;
      }
      if (fresh !== null) this.#nonces.push(fresh);
      throw new AcmeProblem(doc, res.status, `POST ${url}`);
    }
  }
}

/**
 * Seconds a `Retry-After` header asks to wait (delta-seconds or an HTTP date), bounded to
 * [`min`, `max`]; `fallback` when absent or unreadable.
 *
 * @example
 * ```ts
 * import { retryAfterSeconds } from "./client.ts";
 * console.log(retryAfterSeconds("3", 1, 1, 60)); // 3
 * ```
 */
export function retryAfterSeconds(value: string | null, fallback: number, min: number, max: number): number {
  let s = fallback;
  if (value !== null) {
    if (/^\d+$/.test(value.trim())) s = Number(value.trim());
    else {
      const t = Date.parse(value);
      if (!Number.isNaN(t)) s = (t - Date.now()) / 1000;
    }
  }
  return Math.min(max, Math.max(min, s));
}
