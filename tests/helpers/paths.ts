/**
 * Path helpers for tests, from Node's built-ins (JSR's @std/path is not reachable here).
 *
 * @module
 */
export { join } from "node:path";
export { fileURLToPath as fromFileUrl } from "node:url";
