/**
 * The one shape of "refuse with this status": a status to answer and a message that says why.
 * The byte layer's {@linkcode ParseError} is one (with a reason code), a module's refusal is one,
 * and a refused static path carries one.
 *
 * @module
 */

/**
 * A request refused with `status`; `message` is safe to show the client.
 *
 * @example
 * ```ts
 * import { Refusal } from "./refusal.ts";
 * const r = new Refusal(409, "a directory has that name");
 * console.log(r.status, r.message); // 409 "a directory has that name"
 * ```
 */
export class Refusal extends Error {
  /** The status code to answer with. */
  readonly status: number;

  /** A refusal with the status to answer and why. */
  constructor(status: number, message: string) {
    super(message);
    this.name = "Refusal";
    this.status = status;
  }
}
