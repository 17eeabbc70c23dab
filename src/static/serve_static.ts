/**
 * The static file module (RFC 9110 semantics): GET/HEAD/OPTIONS, safe paths, directory redirects
 * and index files, strong ETags and Last-Modified, the preconditions in §13.2.2 order, single and
 * multipart ranges with If-Range, gzip and brotli by q-value (precompressed sidecars first), small
 * files from a bounded cache revalidated by stat, large ones streamed with back-pressure.
 *
 * @module
 */

import { basename, join } from "path";
import type { Handler } from "../http/dispatch.ts";
import type { ServerRequest } from "../http/request.ts";
import { PreparedHeaders, type ResponseWriter } from "../http/writer.ts";
import { STATUS } from "../http/status.ts";
import { sendError } from "../http/error_page.ts";
import type { Logger } from "../log/logger.ts";
import { FileCache } from "./cache.ts";
import { checkIfRange, collectConditionals, evaluatePreconditions } from "./conditional.ts";
import { chooseCoding, type Coding, contentTypeFor, isActiveContent, isCompressible } from "./media.ts";
import { inside, type SafePath, safePath, under } from "./path.ts";
import { BoundedMap } from "../bounded_map.ts";
import { compressWhole, streamCompressed } from "./compress.ts";
import { listing } from "./listing.ts";

export { escapeHtml } from "./listing.ts";
import { type ByteRange, planRanges, type RangePlan } from "./range.ts";
import { TEXT_PLAIN } from "../http/error_page.ts";
import { turnNow } from "../net/clock.ts";

/** Options of {@linkcode staticHandler}. */
export interface StaticOptions {
  /** Directory served. */
  root: string;
  /**
   * URL prefix the module is mounted at. With `/`, a path that is not a file (and any method but
   * GET/HEAD) goes on to `fallback`, like nginx's try_files.
   * @default {"/static/"}
   */
  prefix?: string;
  /**
   * Serve dotfiles (a path segment starting with `.`); otherwise they are 404.
   * @default {false}
   */
  dotfiles?: boolean;
  /**
   * HTML listings for directories without index.html.
   * @default {false}
   */
  dirListing?: boolean;
  /**
   * A Cache-Control value for every file response; empty for none.
   * @default {""}
   */
  cacheControl?: string;
  /**
   * Bytes of small files (and their compressed variants) kept in memory. 0: no cache.
   * @default {67108864} (64 MiB)
   */
  cacheMaxBytes?: number;
  /**
   * Seconds a file's `stat` (size, mtime, inode) is trusted before it is taken again: a file
   * changed on disk is served as it was for at most this long. 0: stat on every request.
   * @default {1}
   */
  statValid?: number;
  /**
   * zstd/brotli/gzip for compressible types (precompressed `.zst`/`.br`/`.gz` sidecars are used whenever
   * present).
   * @default {true}
   */
  compress?: boolean;
  /**
   * Serve active types (HTML, SVG, JavaScript, …) as attachments with a sandboxing CSP (for
   * files users uploaded).
   * @default {false}
   */
  attachmentForActive?: boolean;
  /** Where not-found paths (and non-GET methods) go when the prefix is `/`. */
  fallback?: Handler;
  /**
   * The file names tried, in order, for a directory's index.
   * @default {["index.html"]}
   */
  index?: readonly string[];
  /** For warnings (a missing root). */
  log?: Logger;
}

/** Bytes of each of the two path caches (request path → checked path → real path). */
const PATH_CACHE_BYTES = 4 * 1024 * 1024;
/** Bytes of the per-file metadata cache, and what one entry (its prepared headers) is counted as. */
const META_CACHE_BYTES = 16 * 1024 * 1024;
const META_ENTRY_BYTES = 2048;
/**
 * How long a file's `stat` is trusted before it is looked up again, by default: a changed file is
 * seen within a second (nginx's `open_file_cache_valid` is 60 s).
 */
const STAT_VALID_SECONDS = 1;
/** Files up to this size are cached in memory (and compressed once). */
const CACHE_FILE_BYTES = 1024 * 1024;
/**
 * Cached files up to this size are also compressed whole, once, and keep their compressed forms;
 * larger ones are compressed in slices as they stream (one compression of a megabyte would hold
 * the event loop for tens of milliseconds).
 */
const COMPRESS_WHOLE_BYTES = 256 * 1024;
/** Files smaller than this are not worth compressing. */
const MIN_COMPRESS_BYTES = 1024;
/** Larger files are compressed on the fly only from a sidecar. */
const MAX_ON_THE_FLY_BYTES = 16 * 1024 * 1024;
/** Read size when streaming a file. */
const STREAM_CHUNK_BYTES = 256 * 1024;

const ALLOW = "GET, HEAD, OPTIONS";
/** Precompressed sidecars beside a file, by coding. */
const SIDECAR = { zstd: ".zst", br: ".br", gzip: ".gz" } as const;
/** The index file a directory is answered with, by default. */
const INDEX = ["index.html"];
const encoder = new TextEncoder();

/**
 * Makes the static file handler.
 *
 * @example
 * ```ts ignore
 * const mount = { name: "static", prefix: "/static/", handler: staticHandler({ root: "./static" }) };
 * ```
 */
export function staticHandler(options: StaticOptions): Handler {
  const prefix = options.prefix ?? "/static/";
  const fallback = options.fallback;
  const cache = new FileCache(options.cacheMaxBytes ?? 64 * 1024 * 1024, CACHE_FILE_BYTES);
  // Checked path → its real path. Both maps are bounded by bytes: their keys come from clients.
  const realPaths = new BoundedMap<{ ino: number; real: string }>(PATH_CACHE_BYTES, (v) => v.real.length * 2);
  // Raw request path → the file it names under the root, its stat and when that was taken, trusted
  // for `statValid` seconds (small files only).
  const statValidMs = (options.statValid ?? STAT_VALID_SECONDS) * 1000;
  const stats = new BoundedMap<{ path: string; stat: Deno.FileInfo; at: number }>(
    PATH_CACHE_BYTES,
    (v) => 512 + v.path.length * 2,
  );
  // Raw request path → checked path relative to the root (the checks are pure, so cacheable). A
  // refusal is counted at 1 KiB: it is an Error, with its stack.
  const checked = new BoundedMap<SafePath>(PATH_CACHE_BYTES, (v) => (v.ok ? v.rel.length * 4 : 1024));
  let rootReal: Promise<string | undefined> | undefined;
  // The root once it has been found (a missing root is looked for again on each request).
  let rootKnown: string | undefined;
  const root = () =>
    rootReal ??= Deno.realPath(options.root).catch((e) => {
      options.log?.warn("static root is missing", { root: options.root, error: String(e) });
      rootReal = undefined; // look again next time
      return undefined;
    });

  const notFound = (req: ServerRequest, res: ResponseWriter) =>
    fallback !== undefined
      ? fallback(req, res)
      : sendError(res, req.headers.get("accept"), STATUS.NotFound, "Not Found");

  /**
   * A file served before, within its stat window and from the memory cache, with no precondition,
   * range or content coding to weigh: answered synchronously, with the very checks of the full path
   * below read from their caches (the path's check, its stat, its real path and containment). Any
   * other request (or a cache miss anywhere) takes the full path.
   */
  const fast = (req: ServerRequest, res: ResponseWriter): Promise<void> | undefined => {
    const method = req.method;
    const rootPath = rootKnown;
    if ((method !== "GET" && method !== "HEAD") || rootPath === undefined || statValidMs <= 0) {
      return undefined;
    }
    const path = req.path;
    if (prefix !== "/" && path.length === prefix.length - 1) return undefined;
    const safe = checked.get(path);
    if (safe === undefined || !safe.ok || safe.trailingSlash) return undefined;
    const seen = stats.get(path);
    if (seen === undefined || turnNow() - seen.at >= statValidMs || !seen.stat.isFile) return undefined;
    const known = realPaths.get(seen.path);
    if (known === undefined || known.ino !== (seen.stat.ino ?? 0) || !inside(rootPath, known.real)) {
      return undefined;
    }
    return serveCached(req, res, known.real, seen.stat, options, cache);
  };

  return function staticFiles(req: ServerRequest, res: ResponseWriter): Promise<void> {
    return fast(req, res) ?? serveFully(req, res);
  };

  async function serveFully(req: ServerRequest, res: ResponseWriter): Promise<void> {
    const method = req.method;
    if (method !== "GET" && method !== "HEAD") {
      if (fallback !== undefined) return await fallback(req, res);
      if (method === "OPTIONS") return await res.send(STATUS.NoContent, [["Allow", ALLOW]]);
      return await sendError(res, req.headers.get("accept"), STATUS.MethodNotAllowed, "Method Not Allowed", [[
        "Allow",
        ALLOW,
      ]]);
    }
    const query = req.query !== "" ? "?" + req.query : "";
    if (prefix !== "/" && req.path.length === prefix.length - 1) {
      return await redirect(res, prefix + query);
    }
    let safe = checked.get(req.path);
    if (safe === undefined) {
      safe = safePath(req.path.slice(prefix.length), options.dotfiles ?? false);
      checked.set(req.path, safe);
    }
    if (!safe.ok) {
      if (safe.refusal.status === STATUS.NotFound) return await notFound(req, res);
      return await sendError(res, req.headers.get("accept"), safe.refusal.status, safe.refusal.message);
    }
    const rootPath = rootKnown ?? await root();
    if (rootPath === undefined) return await notFound(req, res);
    rootKnown = rootPath;
    let path: string;
    let stat: Deno.FileInfo;
    const now = statValidMs > 0 ? turnNow() : 0;
    const seen = statValidMs > 0 ? stats.get(req.path) : undefined;
    if (seen !== undefined && now - seen.at < statValidMs) {
      path = seen.path;
      stat = seen.stat;
    } else {
      path = under(rootPath, safe.rel);
      try {
        // Synchronous: one syscall on this thread beats a hop to the blocking pool and back.
        stat = Deno.statSync(path);
      } catch {
        if (seen !== undefined) stats.delete(req.path);
        return await notFound(req, res);
      }
      // Only files small enough for the memory cache: their bytes are a snapshot that matches the
      // stat; a large file is read from disk, so its stat must be fresh.
      if (statValidMs > 0 && stat.isFile && stat.size <= CACHE_FILE_BYTES) {
        stats.set(req.path, { path, stat, at: now });
      }
    }
    let index = "";
    if (stat.isDirectory) {
      if (!req.path.endsWith("/")) return await redirect(res, req.path + "/" + query);
      let indexStat: Deno.FileInfo | undefined;
      for (const name of options.index ?? INDEX) {
        index = join(path, name);
        try {
          indexStat = Deno.statSync(index);
        } catch {
          continue; // no such index
        }
        if (indexStat.isFile) break;
      }
      if (indexStat?.isFile) {
        path = index;
        stat = indexStat;
      } else if (options.dirListing) {
        const real = await Deno.realPath(path).catch(() => undefined);
        if (real === undefined || !inside(rootPath, real)) return await notFound(req, res);
        return await listing(
          res,
          real,
          safe.rel,
          options.dotfiles ?? false,
          req.query,
          req.headers.get("accept"),
        );
      } else {
        return await notFound(req, res);
      }
    }
    // A file is not a directory: `/hello.txt/` (or `/hello.txt%2f`) names nothing.
    if (!stat.isFile || (safe.trailingSlash && path !== index)) return await notFound(req, res);

    // Containment: the resolved path must stay inside the root (a symlink may not lead out).
    let known = realPaths.get(path);
    if (known === undefined || known.ino !== (stat.ino ?? 0)) {
      const real = await Deno.realPath(path).catch(() => undefined);
      if (real === undefined) return await notFound(req, res);
      known = { ino: stat.ino ?? 0, real };
      realPaths.set(path, known);
    }
    if (!inside(rootPath, known.real)) return await notFound(req, res);
    await serveFile(req, res, known.real, stat, options, cache);
  }
}

/**
 * {@linkcode serveFile}'s answer for a cached file when the request has no precondition, no range
 * and no content coding to negotiate (the file is not compressible, or no Accept-Encoding came): a
 * 200 with the file's prepared headers, or undefined when serveFile must decide.
 */
function serveCached(
  req: ServerRequest,
  res: ResponseWriter,
  path: string,
  stat: Deno.FileInfo,
  options: StaticOptions,
  cache: FileCache,
): Promise<void> | undefined {
  const size = stat.size;
  if (size > cache.maxFileBytes) return undefined;
  const meta = fileMeta(path, stat, options);
  const c = collectConditionals(req.headers);
  if (c.any || c.range !== undefined) return undefined;
  if (meta.compressible && c.acceptEncoding !== undefined && size > 0) return undefined;
  const entry = cache.get(path, stat);
  if (entry === undefined) return undefined;
  return res.send(STATUS.OK, meta.preparedFor("identity", meta.identityTag), entry.data);
}

async function redirect(res: ResponseWriter, location: string): Promise<void> {
  await res.send(STATUS.MovedPermanently, [["Location", location], TEXT_PLAIN], `Moved to ${location}\n`);
}

/** What is known of a file between requests; valid while its size, mtime and inode hold. */
interface FileMeta {
  size: number;
  mtimeMs: number;
  ino: number;
  lastModified: number;
  type: string;
  compressible: boolean;
  identityTag: string;
  /** 200 headers per coding (with its ETag, and Content-Encoding when not identity). */
  headersFor(coding: Coding, etag: string): [string, string][];
  /** The same, validated and encoded once. */
  preparedFor(coding: Coding, etag: string): PreparedHeaders;
}

const metas = new WeakMap<StaticOptions, BoundedMap<FileMeta>>();

/** The metadata of `path` as `stat` describes it, built once per version of the file. */
function fileMeta(path: string, stat: Deno.FileInfo, options: StaticOptions): FileMeta {
  let byPath = metas.get(options);
  if (byPath === undefined) {
    metas.set(options, byPath = new BoundedMap<FileMeta>(META_CACHE_BYTES, () => META_ENTRY_BYTES));
  }
  const mtimeMs = stat.mtime?.getTime() ?? 0;
  const ino = stat.ino ?? 0;
  const known = byPath.get(path);
  if (known !== undefined && known.size === stat.size && known.mtimeMs === mtimeMs && known.ino === ino) {
    return known;
  }

  const lastModified = Math.floor(mtimeMs / 1000);
  const type = contentTypeFor(path);
  const compressible = (options.compress ?? true) && isCompressible(type);
  const base: [string, string][] = [
    ["Content-Type", type],
    ["Last-Modified", new Date(lastModified * 1000).toUTCString()],
    ["Accept-Ranges", "bytes"],
    ["X-Content-Type-Options", "nosniff"],
  ];
  if (compressible) base.push(["Vary", "Accept-Encoding"]);
  if (options.cacheControl) base.push(["Cache-Control", options.cacheControl]);
  if (options.attachmentForActive && isActiveContent(type)) {
    base.push(["Content-Disposition", `attachment; filename*=UTF-8''${encodeURIComponent(basename(path))}`]);
    base.push(["Content-Security-Policy", "sandbox; default-src 'none'"]);
  }
  const byCoding = new Map<string, [string, string][]>();
  const prepared = new Map<string, PreparedHeaders>();
  const meta: FileMeta = {
    size: stat.size,
    mtimeMs,
    ino,
    lastModified,
    type,
    compressible,
    identityTag: etagFor(stat.size, mtimeMs),
    headersFor(coding, etag) {
      let h = byCoding.get(coding);
      if (h === undefined) {
        h = [...base, ["ETag", etag]];
        if (coding !== "identity") h.push(["Content-Encoding", coding]);
        byCoding.set(coding, h);
      }
      return h;
    },
    preparedFor(coding, etag) {
      let p = prepared.get(coding);
      if (p === undefined) prepared.set(coding, p = new PreparedHeaders(this.headersFor(coding, etag)));
      return p;
    },
  };
  byPath.set(path, meta);
  return meta;
}

/** A strong entity-tag from size and mtime (and the coding, for compressed variants). */
export function etagFor(size: number, mtimeMs: number, coding: Coding = "identity"): string {
  const base = `${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}`;
  return coding === "identity" ? `"${base}"` : `"${base}-${coding}"`;
}

function sidecar(path: string, mtimeMs: number): Deno.FileInfo | undefined {
  try {
    const st = Deno.statSync(path);
    return st.isFile && (st.mtime?.getTime() ?? 0) >= mtimeMs ? st : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Serves one regular file at `path` (already checked) with full RFC 9110 semantics. The uploads
 * module uses it too.
 */
export async function serveFile(
  req: ServerRequest,
  res: ResponseWriter,
  path: string,
  stat: Deno.FileInfo,
  options: StaticOptions,
  cache: FileCache,
): Promise<void> {
  const size = stat.size;
  const meta = fileMeta(path, stat, options);
  const { mtimeMs, lastModified } = meta;
  const c = collectConditionals(req.headers);

  // Range (GET only), decided against the identity representation (RFC 9110 §14.2, §13.1.5).
  let plan: RangePlan = { kind: "full" };
  if (c.range !== undefined && req.method === "GET") {
    if (checkIfRange(c.ifRange, { etag: meta.identityTag, lastModified })) plan = planRanges(c.range, size);
  }

  // Content coding: only for a whole, compressible response (a 206 is never compressed).
  let coding: Coding = "identity";
  let side: Deno.FileInfo | undefined;
  if (meta.compressible && plan.kind === "full" && c.acceptEncoding !== undefined && size > 0) {
    const zst = sidecar(path + SIDECAR.zstd, mtimeMs);
    const br = sidecar(path + SIDECAR.br, mtimeMs);
    const gz = sidecar(path + SIDECAR.gzip, mtimeMs);
    const onTheFly = size >= MIN_COMPRESS_BYTES && size <= MAX_ON_THE_FLY_BYTES;
    const available: Coding[] = [];
    // In order of preference at equal q: zstd (Chrome 123+ over HTTPS), brotli, gzip.
    if (zst !== undefined || onTheFly) available.push("zstd");
    if (br !== undefined || onTheFly) available.push("br");
    if (gz !== undefined || onTheFly) available.push("gzip");
    coding = chooseCoding(c.acceptEncoding, available);
    side = coding === "zstd" ? zst : coding === "br" ? br : coding === "gzip" ? gz : undefined;
  }
  const etag = coding === "identity" ? meta.identityTag : etagFor(size, mtimeMs, coding);
  const headers = meta.headersFor(coding, etag);

  const pre = evaluatePreconditions(req.method, c, { etag, lastModified });
  if (pre === 304) {
    // RFC 9110 §15.4.5: only the validators and cache metadata.
    const keep = new Set(["etag", "last-modified", "cache-control", "vary"]);
    return await res.send(STATUS.NotModified, headers.filter(([n]) => keep.has(n.toLowerCase())));
  }
  if (pre === 412) {
    return await sendError(res, req.headers.get("accept"), STATUS.PreconditionFailed, "Precondition Failed");
  }

  if (plan.kind === "unsatisfiable") {
    return await res.send(
      STATUS.RangeNotSatisfiable,
      [["Content-Range", `bytes */${size}`], TEXT_PLAIN, ["Accept-Ranges", "bytes"]],
      "Range Not Satisfiable\n",
    );
  }
  if (plan.kind === "ranges") {
    return await sendRanges(req, res, path, size, meta.type, headers, plan.ranges);
  }

  const isHead = req.method === "HEAD";

  if (side !== undefined) {
    // A precompressed sidecar: sent as it is.
    res.writeHead(STATUS.OK, headers, side.size);
    if (!isHead) await streamFile(res, path + SIDECAR[coding as Exclude<Coding, "identity">], 0, side.size);
    return await res.end();
  }

  if (size <= cache.maxFileBytes && (coding === "identity" || size <= COMPRESS_WHOLE_BYTES)) {
    let entry = cache.get(path, stat);
    let data = entry?.data;
    if (data === undefined) {
      data = await Deno.readFile(path);
      if (data.length === size) entry = cache.put(path, stat, data);
    }
    if (coding !== "identity") {
      let packed = entry?.variants.get(coding);
      if (packed === undefined) {
        packed = compressWhole(data, coding);
        if (entry !== undefined) cache.putVariant(entry, coding, packed);
      }
      data = packed;
    }
    return await res.send(STATUS.OK, meta.preparedFor(coding, etag), data);
  }

  if (coding !== "identity") {
    // Large and compressed on the fly: the length is unknown, so the body is chunked.
    res.writeHead(STATUS.OK, headers);
    if (!isHead) await streamCompressed(res, path, size, coding);
    return await res.end();
  }
  res.writeHead(STATUS.OK, headers, size);
  if (!isHead) await streamFile(res, path, 0, size);
  await res.end();
}

/** 206 with one part, or multipart/byteranges (RFC 9110 §14.6). */
async function sendRanges(
  req: ServerRequest,
  res: ResponseWriter,
  path: string,
  size: number,
  type: string,
  headers: [string, string][],
  ranges: ByteRange[],
): Promise<void> {
  const common = headers.filter(([n]) => n !== "Content-Type");
  if (ranges.length === 1) {
    const r = ranges[0];
    const length = r.end - r.start + 1;
    res.writeHead(STATUS.PartialContent, [
      ...headers,
      ["Content-Range", `bytes ${r.start}-${r.end}/${size}`],
    ], length);
    if (req.method !== "HEAD") await streamFile(res, path, r.start, length);
    return await res.end();
  }
  const boundary = "ferry-" +
    Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0"))
      .join("");
  const heads = ranges.map((r, i) =>
    encoder.encode(
      `${
        i === 0 ? "" : "\r\n"
      }--${boundary}\r\nContent-Type: ${type}\r\nContent-Range: bytes ${r.start}-${r.end}/${size}\r\n\r\n`,
    )
  );
  const tail = encoder.encode(`\r\n--${boundary}--\r\n`);
  const total = heads.reduce((n, b) => n + b.length, 0) + tail.length +
    ranges.reduce((n, r) => n + r.end - r.start + 1, 0);
  res.writeHead(STATUS.PartialContent, [
    ...common,
    ["Content-Type", `multipart/byteranges; boundary=${boundary}`],
  ], total);
  for (let i = 0; i < ranges.length; i++) {
    await res.write(heads[i]);
    await streamFile(res, path, ranges[i].start, ranges[i].end - ranges[i].start + 1);
  }
  await res.write(tail);
  await res.end();
}

/**
 * Streams `length` bytes of a file from `start`, one chunk at a time: each chunk is written to
 * the socket before the next is read, so a slow client holds one chunk of memory, never the file.
 */
export async function streamFile(
  res: ResponseWriter,
  path: string,
  start: number,
  length: number,
): Promise<void> {
  if (length === 0) return;
  using file = await Deno.open(path, { read: true });
  if (start > 0) await file.seek(start, Deno.SeekMode.Start);
  const buf = new Uint8Array(Math.min(STREAM_CHUNK_BYTES, length));
  let left = length;
  while (left > 0) {
    const n = await file.read(left < buf.length ? buf.subarray(0, left) : buf);
    if (n === null) throw new Error(`${path} shrank while it was being sent`);
    await res.write(buf.subarray(0, n));
    left -= n;
  }
}
