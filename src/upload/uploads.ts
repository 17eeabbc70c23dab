/**
 * The upload module: PUT, POST and DELETE of files under `/uploads/`, behind Basic auth,
 * streamed to disk and atomic; GET and HEAD with the static module's full semantics (active
 * types served as attachments, so an upload can never run script in ferry's origin).
 *
 * Atomicity: a body is written to a temporary file in the target directory, flushed to disk, then
 * renamed over the target (PUT) or linked to a name that does not exist yet (POST: `link()` fails
 * if the name is taken, so concurrent POSTs cannot overwrite each other). Whatever goes wrong —
 * a client that leaves, a timeout, a full disk — the temporary file is removed and the old file
 * is untouched.
 *
 * @module
 */

import { basename, dirname, extname, join } from "path";
import type { Handler } from "../http/dispatch.ts";
import type { ServerRequest } from "../http/request.ts";
import type { ResponseWriter } from "../http/writer.ts";
import { STATUS } from "../http/status.ts";
import { sendError } from "../http/error_page.ts";
import { Refusal } from "../http/refusal.ts";
import type { Logger } from "../log/logger.ts";
import type { Stats } from "../stats.ts";
import { staticHandler } from "../static/serve_static.ts";
import { safePath } from "../static/path.ts";
import {
  constantTimeEqual,
  credentialsInClear,
  FailureThrottle,
  parseBasic,
  type ThrottleOptions,
} from "./auth.ts";
import { removeStaleUploads, tempUploadName } from "./stale.ts";

/** Options of {@linkcode uploadHandler}. */
export interface UploadOptions {
  /** Directory written to (created when missing). */
  dir: string;
  /**
   * URL prefix.
   * @default {"/uploads/"}
   */
  prefix?: string;
  /**
   * Checks credentials in place of `user` and `pass` (a config's `users`, bcrypt hashes); when
   * given, uploads are enabled.
   */
  verify?: (user: string, pass: string) => Promise<boolean>;
  /** Basic-auth user; writes are refused (403) while user or password is unset. */
  user?: string;
  /** Basic-auth password. */
  pass?: string;
  /** Limits of the failure throttle. */
  throttle?: ThrottleOptions;
  /** Counters (auth failures, uploads). */
  stats?: Stats;
  /** Log. */
  log?: Logger;
  /**
   * Accept credentials sent over plain HTTP from other machines (`--insecure-uploads`); otherwise
   * they get 403 pointing to HTTPS.
   * @default {false}
   */
  insecure?: boolean;
}

const ALLOW = "GET, HEAD, PUT, POST, DELETE, OPTIONS";
const CHALLENGE: [string, string] = ["WWW-Authenticate", 'Basic realm="ferry", charset="UTF-8"'];
/** Most `name(N).ext` candidates a POST tries. */
const MAX_POST_SUFFIX = 10_000;

/**
 * Makes the upload handler.
 *
 * @example
 * ```ts ignore
 * const handler = uploadHandler({ dir: "./uploads", user: "u", pass: "p" });
 * ```
 */
export function uploadHandler(options: UploadOptions): Handler {
  const prefix = options.prefix ?? "/uploads/";
  const verify = options.verify;
  const enabled = verify !== undefined || ((options.user ?? "") !== "" && (options.pass ?? "") !== "");
  const throttle = new FailureThrottle(options.throttle);
  const read = staticHandler({
    root: options.dir,
    prefix,
    attachmentForActive: true,
    cacheMaxBytes: 8 * 1024 * 1024,
    log: options.log,
  });
  // Temporary files of uploads a crash cut short are removed before the first upload request.
  const swept = removeStaleUploads(options.dir).then((paths) => {
    if (paths.length > 0) {
      options.log?.warn("removed temporary files of interrupted uploads", {
        dir: options.dir,
        count: paths.length,
      });
    }
  });
  let ensured: Promise<void> | undefined;
  const ensureDir = () =>
    ensured ??= swept.then(() => Deno.mkdir(options.dir, { recursive: true })).catch((e) => {
      ensured = undefined;
      throw e;
    });

  return async function uploads(req: ServerRequest, res: ResponseWriter): Promise<void> {
    const method = req.method;
    const accept = req.headers.get("accept");
    if (method === "GET" || method === "HEAD") {
      await ensureDir();
      return await read(req, res);
    }
    if (method === "OPTIONS") return await res.send(STATUS.NoContent, [["Allow", ALLOW]]);
    if (method !== "PUT" && method !== "POST" && method !== "DELETE") {
      return await sendError(res, accept, STATUS.MethodNotAllowed, "Method Not Allowed", [["Allow", ALLOW]]);
    }
    if (!enabled) {
      return await sendError(
        res,
        accept,
        STATUS.Forbidden,
        "uploads are disabled: set FERRY_AUTH_USER and FERRY_AUTH_PASS to enable them",
      );
    }
    // Credentials that crossed a network in the clear are refused unchecked (right or wrong, they
    // are no longer secret): the client is told to use HTTPS.
    if (!options.insecure && req.headers.get("authorization") !== undefined && credentialsInClear(req)) {
      options.log?.info("upload credentials over plain HTTP refused", { id: req.id, remote: req.clientAddr });
      return await sendError(
        res,
        accept,
        STATUS.Forbidden,
        `credentials over plain HTTP from ${req.clientAddr} are refused: upload over HTTPS ` +
          "(or start ferry with --insecure-uploads)",
      );
    }
    // Authentication first: nothing about the file system is revealed to strangers.
    const addr = req.clientAddr;
    const wait = throttle.retryAfter(addr);
    if (wait > 0) {
      return await sendError(res, accept, STATUS.TooManyRequests, "Too Many Requests", [[
        "Retry-After",
        String(wait),
      ]]);
    }
    const creds = parseBasic(req.headers.get("authorization"));
    let ok = false;
    if ("user" in creds && verify !== undefined) {
      ok = await verify(creds.user, creds.pass);
    } else if ("user" in creds) {
      // Both halves are always compared, so the timing says nothing about which one was wrong.
      const user = constantTimeEqual(creds.user, options.user!);
      const pass = constantTimeEqual(creds.pass, options.pass!);
      ok = user && pass;
    }
    if (!ok) {
      throttle.fail(addr);
      if (options.stats) options.stats.authFailures++;
      options.log?.info("upload auth failed", {
        id: req.id,
        remote: addr,
        why: "user" in creds ? "wrong" : creds.error,
      });
      return await sendError(res, accept, STATUS.Unauthorized, "Unauthorized", [CHALLENGE]);
    }
    throttle.succeed(addr);

    try {
      await ensureDir();
      const rel = checkWritePath(req.path.slice(prefix.length));
      if (method === "DELETE") return await remove(res, accept, options.dir, rel);
      if (req.contentLength < 0 && !req.chunked) {
        throw new Refusal(STATUS.LengthRequired, "a Content-Length or a chunked body is required");
      }
      const target = await prepareParents(options.dir, rel);
      const stored = method === "PUT" ? await putFile(req, rel, target) : await postFile(req, rel, target);
      if (options.stats) {
        options.stats.uploadsStored++;
        options.stats.uploadBytes += stored.bytes;
      }
      const location = prefix + stored.rel.split("/").map(encodeURIComponent).join("/");
      if (stored.replaced) return await res.send(STATUS.NoContent, [["Location", location]]);
      return await res.send(
        STATUS.Created,
        [["Location", location], ["Content-Type", "application/json"]],
        JSON.stringify({ path: location, bytes: stored.bytes }) + "\n",
      );
    } catch (e) {
      if (e instanceof Refusal) return await sendError(res, accept, e.status, e.message);
      throw e;
    }
  };
}

/** A stored upload. */
interface Stored {
  /** Path relative to the upload directory. */
  rel: string;
  /** Body bytes written. */
  bytes: number;
  /** Whether an existing file was replaced. */
  replaced: boolean;
}

/** `rel` with its last segment replaced by the base name of `path`. */
function sibling(rel: string, path: string): string {
  const dir = dirname(rel);
  return dir === "." ? basename(path) : `${dir}/${basename(path)}`;
}

/** PUT: the body replaces the target atomically (rename over it). */
async function putFile(req: ServerRequest, rel: string, target: string): Promise<Stored> {
  const existing = await lstatOrUndefined(target);
  if (existing?.isSymlink) throw new Refusal(STATUS.BadRequest, "symlinks are not followed for writes");
  if (existing?.isDirectory) throw new Refusal(STATUS.Conflict, "a directory has that name");
  const tmp = await receive(req, dirname(target));
  try {
    await Deno.rename(tmp.path, target);
  } catch (e) {
    await Deno.remove(tmp.path).catch(() => {});
    throw e;
  } finally {
    tmp.file.close();
  }
  return { rel, bytes: tmp.bytes, replaced: existing !== undefined };
}

/** POST: never overwrites; the first free name of `name.ext`, `name(1).ext`, … is taken. */
async function postFile(req: ServerRequest, rel: string, target: string): Promise<Stored> {
  const tmp = await receive(req, dirname(target));
  try {
    const ext = extname(target);
    const stem = target.slice(0, target.length - ext.length);
    for (let n = 0; n <= MAX_POST_SUFFIX; n++) {
      const candidate = n === 0 ? target : `${stem}(${n})${ext}`;
      try {
        // link() creates the name only if it does not exist yet: an exclusive create, no race.
        await Deno.link(tmp.path, candidate);
        return { rel: sibling(rel, candidate), bytes: tmp.bytes, replaced: false };
      } catch (e) {
        if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      }
    }
    throw new Refusal(STATUS.Conflict, "too many files with that name");
  } finally {
    await Deno.remove(tmp.path).catch(() => {});
    tmp.file.close();
  }
}

/**
 * The static module's decoding and containment rules, stricter for writes: `..`, `.`, NUL,
 * backslash and any segment starting with `.` are 400, and there must be a file name.
 */
export function checkWritePath(raw: string): string {
  const safe = safePath(raw, true);
  if (!safe.ok) throw new Refusal(STATUS.BadRequest, safe.refusal.message);
  if (safe.rel === "" || safe.trailingSlash) throw new Refusal(STATUS.BadRequest, "a file name is required");
  if (safe.segments.some((s) => s.startsWith("."))) {
    throw new Refusal(STATUS.BadRequest, "names starting with . are not allowed");
  }
  return safe.rel;
}

async function lstatOrUndefined(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.lstat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/**
 * Creates missing parent directories one level at a time, refusing any existing component that
 * is a symlink (never followed for writes) or not a directory. Returns the target path.
 */
async function prepareParents(dir: string, rel: string): Promise<string> {
  const segments = rel.split("/");
  let path = dir;
  for (const segment of segments.slice(0, -1)) {
    path = join(path, segment);
    let st = await lstatOrUndefined(path);
    if (st === undefined) {
      try {
        await Deno.mkdir(path);
      } catch (e) {
        if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      }
      st = await Deno.lstat(path);
    }
    if (st.isSymlink) throw new Refusal(STATUS.BadRequest, "symlinks are not followed for writes");
    if (!st.isDirectory) throw new Refusal(STATUS.Conflict, `${segment} is not a directory`);
  }
  return join(path, segments[segments.length - 1]);
}

/**
 * Streams the body into a new temporary file in `dir`, flushed to disk; the file stays open (and
 * locked) for the caller to close once it has been moved into place.
 */
async function receive(
  req: ServerRequest,
  dir: string,
): Promise<{ path: string; bytes: number; file: Deno.FsFile }> {
  const path = join(dir, tempUploadName());
  const file = await Deno.open(path, { write: true, createNew: true, mode: 0o644 });
  // Held until the file is renamed into place or removed: a start after a crash removes only the
  // temporary files no live upload holds (see stale.ts).
  try {
    await file.lock(true);
  } catch {
    // a file system without locks: the upload goes on; a crash may leave its file behind
  }
  let bytes = 0;
  let ok = false;
  // One buffer for the whole body: memory stays flat whatever the size.
  const buf = new Uint8Array(256 * 1024);
  try {
    for (;;) {
      const n = await req.body.readInto(buf);
      if (n === null) break;
      let off = 0;
      while (off < n) off += await file.write(buf.subarray(off, n));
      bytes += n;
    }
    await file.syncData();
    ok = true;
  } finally {
    if (!ok) {
      await Deno.remove(path).catch(() => {});
      file.close();
    }
  }
  return { path, bytes, file };
}

async function remove(
  res: ResponseWriter,
  accept: string | undefined,
  dir: string,
  rel: string,
): Promise<void> {
  const path = join(dir, rel);
  // Refuse a path through a symlinked directory, as for writes.
  const parts = rel.split("/");
  let walk = dir;
  for (const p of parts.slice(0, -1)) {
    walk = join(walk, p);
    const st = await lstatOrUndefined(walk);
    if (st === undefined) return await sendError(res, accept, STATUS.NotFound, "Not Found");
    if (st.isSymlink) throw new Refusal(STATUS.BadRequest, "symlinks are not followed for writes");
  }
  const st = await lstatOrUndefined(path);
  if (st === undefined) return await sendError(res, accept, STATUS.NotFound, "Not Found");
  if (st.isSymlink) throw new Refusal(STATUS.BadRequest, "symlinks are not followed for writes");
  if (st.isDirectory) throw new Refusal(STATUS.Conflict, "a directory has that name");
  try {
    await Deno.remove(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return await sendError(res, accept, STATUS.NotFound, "Not Found");
    throw e;
  }
  await res.send(STATUS.NoContent);
}
