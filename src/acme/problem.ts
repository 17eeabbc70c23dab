/**
 * An ACME error (RFC 8555 §6.7): the CA's problem document (RFC 7807), kept verbatim for the log.
 *
 * @module
 */

/** The problem document of a failed ACME request. */
export interface ProblemDocument {
  /** `urn:ietf:params:acme:error:…` or another URI. */
  type?: string;
  /** The CA's explanation. */
  detail?: string;
  /** HTTP status. */
  status?: number;
  /** Per-identifier problems (RFC 8555 §6.7.1). */
  subproblems?: ProblemDocument[];
}

/** The ACME error namespace. */
export const ACME_ERROR = "urn:ietf:params:acme:error:";

/**
 * A failed ACME request or validation, with the CA's `type` and `detail` as sent.
 *
 * @example
 * ```ts ignore
 * if (e instanceof AcmeProblem && e.type === ACME_ERROR + "badNonce") retry();
 * ```
 */
export class AcmeProblem extends Error {
  /** The problem type, verbatim. */
  readonly type: string;
  /** The detail, verbatim. */
  readonly detail: string;
  /** The HTTP status of the response (0 when the problem came inside an object). */
  readonly status: number;
  /** The whole document. */
  readonly document: ProblemDocument;

  /** A problem from the CA's document. */
  constructor(doc: ProblemDocument, status: number, context: string) {
    const type = doc.type ?? "about:blank";
    const detail = doc.detail ?? "";
    super(`${context}: ${type}: ${detail}`);
    this.name = "AcmeProblem";
    this.type = type;
    this.detail = detail;
    this.status = status;
    this.document = doc;
  }
}
