/**
 * Media types (from mime-db through `npm:mime-types`), which of them are worth compressing, and
 * the choice of content coding by Accept-Encoding q-values (`npm:negotiator`).
 *
 * @module
 */

import { extname } from "path";
import mime from "mime-types";
import Negotiator from "negotiator";
import compressible from "compressible";

/** Media type for a file name, with a charset for text; `application/octet-stream` when unknown. */
export function contentTypeFor(path: string): string {
  const t = mime.contentType(extname(path));
  return t === false ? "application/octet-stream" : t;
}

/**
 * Whether a media type compresses well, by mime-db's own `compressible` field (through
 * `npm:compressible`, which also covers `text/*` and `+json` / `+xml` suffixes). Computed once per
 * file version (file metadata is cached), so the library's cost is off the hot path.
 */
export function isCompressible(contentType: string): boolean {
  const base = contentType.split(";")[0].trim().toLowerCase();
  // mime-db calls application/octet-stream compressible, but it is what unknown files get, and
  // those are mostly binary: leave them alone.
  return base !== "application/octet-stream" && compressible(base) === true;
}

/**
 * Types that could run script in ferry's origin if served inline (HTML, SVG, XML, JavaScript,
 * …): uploads of these are sent as attachments.
 */
export function isActiveContent(contentType: string): boolean {
  const base = contentType.split(";")[0].trim().toLowerCase();
  return base === "text/html" || base === "application/xhtml+xml" || base === "image/svg+xml" ||
    base === "text/javascript" || base === "application/javascript" || base === "text/xml" ||
    base === "application/xml" || base.endsWith("+xml") || base === "application/wasm" ||
    base === "text/xsl" || base === "application/pdf" || base === "text/css";
}

/** Content codings ferry produces, best first. */
export type Coding = "zstd" | "br" | "gzip" | "identity";

/**
 * The best coding the client accepts, among `available` (in ferry's order of preference when q
 * ties): `identity` when nothing else is acceptable or no Accept-Encoding was sent.
 *
 * @example
 * ```ts
 * import { chooseCoding } from "./media.ts";
 * console.log(chooseCoding("gzip;q=1, br;q=0.5", ["br", "gzip"])); // "gzip"
 * ```
 */
export function chooseCoding(acceptEncoding: string | undefined, available: Coding[]): Coding {
  if (acceptEncoding === undefined || available.length === 0) return "identity";
  const offered: Coding[] = [...available, "identity"];
  const preferred = new Negotiator({ headers: { "accept-encoding": acceptEncoding } })
    .encodings(offered, { preferred: offered }) as Coding[];
  return preferred[0] ?? "identity";
}
