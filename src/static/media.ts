/**
 * Media types (from mime-db through `npm:mime-types`), which of them are worth compressing, and
 * the choice of content coding by Accept-Encoding q-values (`npm:negotiator`).
 *
 * @module
 */

import { extname } from "path";
import mime from "mime-types";
import Negotiator from "negotiator";

/** Media type for a file name, with a charset for text; `application/octet-stream` when unknown. */
export function contentTypeFor(path: string): string {
  const t = mime.contentType(extname(path));
  return t === false ? "application/octet-stream" : t;
}

const COMPRESSIBLE_APP = new Set([
  "application/javascript",
  "application/json",
  "application/xml",
  "application/wasm",
  "application/xhtml+xml",
  "application/rss+xml",
  "application/atom+xml",
  "application/manifest+json",
  "application/x-javascript",
  "image/svg+xml",
  "image/x-icon",
  "image/bmp",
  "font/ttf",
  "font/otf",
]);

/** Whether a media type compresses well (text, JSON, XML, SVG, …; not images, video, archives). */
export function isCompressible(contentType: string): boolean {
  const base = contentType.split(";")[0].trim().toLowerCase();
  return base.startsWith("text/") || COMPRESSIBLE_APP.has(base) || base.endsWith("+json") ||
    base.endsWith("+xml");
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
export type Coding = "br" | "gzip" | "identity";

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
