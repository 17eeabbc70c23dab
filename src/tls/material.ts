/**
 * A certificate chain and its private key, as PEM text: what the HTTPS listener is built from.
 *
 * @module
 */

/** Certificate and key for the HTTPS listener. */
export interface TlsMaterial {
  /** The certificate chain (PEM). */
  cert: string;
  /** The private key (PEM). */
  key: string;
}
