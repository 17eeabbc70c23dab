/**
 * Reading what the CA sends with a bound: ACME's documents (directory, account, order,
 * authorization, problem) and a certificate chain are a few KiB, so a response over
 * {@linkcode MAX_ACME_RESPONSE_BYTES} is an error naming its URL and size, read no further: a
 * broken or hostile CA cannot make ferry hold what it sends.
 *
 * @module
 */

/** The most bytes of one response from the CA ferry reads (1 MiB). */
export const MAX_ACME_RESPONSE_BYTES = 1024 * 1024;

/** A response from the CA larger than the bound. */
export class AcmeResponseTooLarge extends Error {
  /** Wraps the URL and what was known of the size. */
  constructor(url: string, size: string, limit: number) {
    super(
      `the ACME server's response at ${url} is ${size}, over the ${limit}-byte bound for a CA's response`,
    );
    this.name = "AcmeResponseTooLarge";
  }
}

/**
 * The body of `res` as text, read up to `limit` bytes; throws {@linkcode AcmeResponseTooLarge}
 * (before reading, when Content-Length says so) past it.
 *
 * @example
 * ```ts ignore
 * const text = await readBounded(await fetch(url), url);
 * ```
 */
export async function readBounded(
  res: Response,
  url: string,
  limit = MAX_ACME_RESPONSE_BYTES,
): Promise<string> {
  const declared = Number(res.headers.get("content-length") ?? "-1");
  if (declared > limit) {
    await res.body?.cancel();
    throw new AcmeResponseTooLarge(url, `${declared} bytes (Content-Length)`, limit);
  }
  if (res.body === null) return "";
  const parts: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel();
      throw new AcmeResponseTooLarge(url, `more than ${limit} bytes`, limit);
    }
    parts.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return new TextDecoder().decode(bytes);
}
