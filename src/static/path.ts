/**
 * Request paths → file system paths, safely: percent-decoded exactly once as UTF-8, with `..`,
 * `.`, backslashes and NUL refused, dotfiles hidden, and the resolved real path required to stay
 * inside the root (so a symlink cannot lead out).
 *
 * @module
 */

import { join, sep } from "path";
import { STATUS } from "../http/status.ts";
import { Refusal } from "../http/refusal.ts";
import { percentDecode } from "../http/percent.ts";

export { percentDecode };

/** A decoded, checked path relative to the root, or the status that refuses it. */
export type SafePath = {
  ok: true;
  rel: string;
  segments: string[];
  /** The decoded path ends with `/`: it can name a directory, never a file. */
  trailingSlash: boolean;
} | {
  ok: false;
  /** Why the path is refused, and with which status (400, or 404 for a hidden dotfile). */
  refusal: Refusal;
};

/**
 * Checks a raw path below a mount (`"css/site.css"`, still percent-encoded). Refuses (400)
 * malformed escapes, NUL, backslashes and `.` / `..` segments; hides (404) segments starting with
 * a dot unless `allowDotfiles`.
 */
export function safePath(raw: string, allowDotfiles: boolean): SafePath {
  const decoded = percentDecode(raw);
  if (decoded === undefined) {
    return { ok: false, refusal: new Refusal(STATUS.BadRequest, "malformed percent-encoding") };
  }
  if (decoded.includes("\0")) return { ok: false, refusal: new Refusal(STATUS.BadRequest, "NUL in path") };
  if (decoded.includes("\\")) {
    return { ok: false, refusal: new Refusal(STATUS.BadRequest, "backslash in path") };
  }
  const segments = decoded.split("/").filter((s) => s !== "");
  for (const s of segments) {
    if (s === "." || s === "..") {
      return { ok: false, refusal: new Refusal(STATUS.BadRequest, "dot segment in path") };
    }
    if (s.startsWith(".") && !allowDotfiles) {
      return { ok: false, refusal: new Refusal(STATUS.NotFound, "dotfile") };
    }
  }
  return { ok: true, rel: segments.join("/"), segments, trailingSlash: decoded.endsWith("/") };
}

/** Whether `real` (a resolved path) is `root` or inside it. */
export function inside(root: string, real: string): boolean {
  // No `root + sep` per call: a concatenated string is flattened again by every startsWith.
  if (!real.startsWith(root)) return false;
  return real.length === root.length || root.endsWith(sep) || real.charCodeAt(root.length) === SEP;
}

const SEP = sep.charCodeAt(0);

/** `root` joined with a checked relative path. */
export function under(root: string, rel: string): string {
  return rel === "" ? root : join(root, rel);
}
