/**
 * The pool of field-offset arrays that request-head parsers share (`parser.ts`): a parser takes
 * one when a head's first field arrives and gives it back when the head is done, so an idle
 * connection's parser holds none.
 *
 * @module
 */

/** Fields a pooled offsets array holds (32 header fields; a head with more grows its own). */
export const POOLED_FIELDS = 4 * 32;
/** Offsets arrays of heads being parsed, shared by every connection's parser. */
export const fieldPool: Int32Array[] = [];
/** Most spare offsets arrays kept. */
export const FIELD_POOL_MAX = 1024;
/** The offsets of a head without fields. */
export const NO_FIELDS = new Int32Array(0);
