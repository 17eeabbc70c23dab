/**
 * Conditional requests (RFC 9110 §13): entity-tag lists, HTTP dates, and each precondition as a
 * small pure function, applied in the order of §13.2.2 by {@linkcode evaluatePreconditions}.
 *
 * @module
 */

import type { HeaderList } from "../http/headers.ts";

/** The request fields that make a request conditional or ranged, collected in one pass. */
export interface Conditionals {
  /** If-Match. */
  ifMatch?: string;
  /** If-None-Match. */
  ifNoneMatch?: string;
  /** If-Modified-Since. */
  ifModifiedSince?: string;
  /** If-Unmodified-Since. */
  ifUnmodifiedSince?: string;
  /** If-Range. */
  ifRange?: string;
  /** Range. */
  range?: string;
  /** Accept-Encoding. */
  acceptEncoding?: string;
  /** Whether any of the four preconditions is present. */
  any: boolean;
}

/**
 * Collects the conditional and range fields of a request in one pass over its headers (repeats
 * joined with ", " as lists).
 */
export function collectConditionals(h: HeaderList): Conditionals {
  const c: Conditionals = { any: false };
  const names = h.names;
  const values = h.values;
  for (let i = 0; i < names.length; i++) {
    const n = names[i];
    if (n.length < 5 || (n.charCodeAt(0) !== 0x69 && n !== "range" && n !== "accept-encoding")) continue;
    const v = values[i];
    switch (n) {
      case "if-match":
        c.ifMatch = c.ifMatch === undefined ? v : `${c.ifMatch}, ${v}`;
        c.any = true;
        break;
      case "if-none-match":
        c.ifNoneMatch = c.ifNoneMatch === undefined ? v : `${c.ifNoneMatch}, ${v}`;
        c.any = true;
        break;
      case "if-modified-since":
        c.ifModifiedSince = v;
        c.any = true;
        break;
      case "if-unmodified-since":
        c.ifUnmodifiedSince = v;
        c.any = true;
        break;
      case "if-range":
        c.ifRange = v;
        break;
      case "range":
        c.range = c.range === undefined ? v : `${c.range},${v}`;
        break;
      case "accept-encoding":
        c.acceptEncoding = c.acceptEncoding === undefined ? v : `${c.acceptEncoding}, ${v}`;
        break;
    }
  }
  return c;
}

/** One entity-tag of a list. */
export interface EntityTag {
  /** Whether it was `W/"..."`. */
  weak: boolean;
  /** The opaque tag, without quotes. */
  tag: string;
}

/**
 * Parses `If-Match` / `If-None-Match`: `"*"` or a list of entity-tags. Malformed members are
 * skipped.
 *
 * @example
 * ```ts
 * import { parseETags } from "./conditional.ts";
 * console.log(parseETags('W/"a", "b"')); // [{ weak: true, tag: "a" }, { weak: false, tag: "b" }]
 * ```
 */
export function parseETags(value: string): "*" | EntityTag[] {
  if (value.trim() === "*") return "*";
  const out: EntityTag[] = [];
  const re = /\s*(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(value)) !== null) {
    out.push({ weak: m[1] !== undefined, tag: m[2] });
    if (re.lastIndex >= value.length) break;
  }
  return out;
}

/** Parses an entity-tag as ferry sends it (`"…"` or `W/"…"`). */
export function parseETag(etag: string): EntityTag {
  const weak = etag.startsWith("W/");
  return { weak, tag: etag.slice(weak ? 3 : 1, -1) };
}

/** Strong comparison (RFC 9110 §8.8.3.2): both strong and equal. */
export function strongMatch(a: EntityTag, b: EntityTag): boolean {
  return !a.weak && !b.weak && a.tag === b.tag;
}

/** Weak comparison: equal tags, weakness ignored. */
export function weakMatch(a: EntityTag, b: EntityTag): boolean {
  return a.tag === b.tag;
}

/** An HTTP-date (RFC 9110 §5.6.7) in seconds since the epoch; undefined when invalid. */
export function parseHttpDate(value: string): number | undefined {
  const v = value.trim();
  if (!/^[A-Za-z]{3,9}, /.test(v) && !/^[A-Za-z]{3} [A-Za-z]{3} /.test(v)) return undefined;
  const ms = Date.parse(v.endsWith("GMT") || /\d{4}$/.test(v) ? v : v + " GMT");
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

/** What the resource looks like for the precondition checks. */
export interface Validators {
  /** The selected representation's entity-tag, as sent (`"…"`). */
  etag: string;
  /** Last modification, seconds since the epoch. */
  lastModified: number;
}

/** §13.1.1: true when `If-Match` passes (or is absent). */
export function checkIfMatch(header: string | undefined, v: Validators): boolean {
  if (header === undefined) return true;
  const tags = parseETags(header);
  if (tags === "*") return true;
  const current = parseETag(v.etag);
  return tags.some((t) => strongMatch(t, current));
}

/** §13.1.4: true when `If-Unmodified-Since` passes (or is absent or invalid). */
export function checkIfUnmodifiedSince(header: string | undefined, v: Validators): boolean {
  if (header === undefined) return true;
  const date = parseHttpDate(header);
  return date === undefined || v.lastModified <= date;
}

/** §13.1.2: true when `If-None-Match` passes (no tag matches, weakly). */
export function checkIfNoneMatch(header: string | undefined, v: Validators): boolean {
  if (header === undefined) return true;
  const tags = parseETags(header);
  if (tags === "*") return false;
  const current = parseETag(v.etag);
  return !tags.some((t) => weakMatch(t, current));
}

/** §13.1.3: true when `If-Modified-Since` passes (modified after the date, or absent/invalid). */
export function checkIfModifiedSince(header: string | undefined, v: Validators): boolean {
  if (header === undefined) return true;
  const date = parseHttpDate(header);
  return date === undefined || v.lastModified > date;
}

/**
 * §13.1.5: true when the Range may be honoured: no `If-Range`, or it names the current
 * representation (a strong ETag that matches strongly, or exactly the Last-Modified date).
 */
export function checkIfRange(header: string | undefined, v: Validators): boolean {
  if (header === undefined) return true;
  const h = header.trim();
  if (h.startsWith('"') || h.startsWith("W/")) {
    const tags = parseETags(h);
    return tags !== "*" && tags.length === 1 && strongMatch(tags[0], parseETag(v.etag));
  }
  const date = parseHttpDate(h);
  return date !== undefined && date === v.lastModified;
}

/** The outcome of the preconditions: go on, or answer 304 / 412. */
export type PreconditionResult = "proceed" | 304 | 412;

/**
 * Applies the preconditions in RFC 9110 §13.2.2 order.
 *
 * @example
 * ```ts ignore
 * const r = evaluatePreconditions(req.method, collectConditionals(req.headers), { etag, lastModified });
 * if (r !== "proceed") return notModifiedOrFailed(r);
 * ```
 */
export function evaluatePreconditions(method: string, c: Conditionals, v: Validators): PreconditionResult {
  if (!c.any) return "proceed";
  if (c.ifMatch !== undefined) {
    if (!checkIfMatch(c.ifMatch, v)) return 412;
  } else if (!checkIfUnmodifiedSince(c.ifUnmodifiedSince, v)) {
    return 412;
  }
  const getOrHead = method === "GET" || method === "HEAD";
  if (c.ifNoneMatch !== undefined) {
    if (!checkIfNoneMatch(c.ifNoneMatch, v)) return getOrHead ? 304 : 412;
  } else if (getOrHead && !checkIfModifiedSince(c.ifModifiedSince, v)) {
    return 304;
  }
  return "proceed";
}
