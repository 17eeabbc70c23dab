/**
 * Temporary upload files a crash left behind. An upload streams into
 * `.ferry-upload-<pid>-<uuid>.tmp` beside its target and is renamed into place when complete; a
 * `kill -9` mid-upload leaves the temporary file, which no request can reach or remove. At start
 * the upload module removes every such file that no upload holds locked (and files of the older
 * `.ferry-upload-<uuid>.tmp` form, which carried no pid). The pid in the name is for people.
 *
 * @module
 */

import { join } from "path";

/** Prefix and suffix of a temporary upload file's name. */
export const TEMP_PREFIX = ".ferry-upload-";
/** See {@linkcode TEMP_PREFIX}. */
export const TEMP_SUFFIX = ".tmp";

/**
 * The name of a new temporary upload file for this process.
 *
 * @example
 * ```ts
 * import { tempUploadName } from "./stale.ts";
 * console.log(tempUploadName().startsWith(`.ferry-upload-${Deno.pid}-`)); // true
 * ```
 */
export function tempUploadName(): string {
  return `${TEMP_PREFIX}${Deno.pid}-${crypto.randomUUID()}${TEMP_SUFFIX}`;
}

const NAMED = /^\.ferry-upload-\d+-[0-9a-f-]{36}\.tmp$/;
const UNNAMED = /^\.ferry-upload-[0-9a-f-]{36}\.tmp$/;

/**
 * Whether a temporary upload file is still being written. The upload that writes it holds an
 * exclusive lock on it (`flock`), which the kernel drops when the process dies, however it dies:
 * a lock taken here means its writer is gone. This needs no /proc (which Deno 2.9 opens only with
 * `--allow-all`) and cannot be fooled by a pid reused after a restart (a container's ferry is
 * often pid 1 every time). Another isolate of this process (`--workers`) holds its lock through
 * its own open file, so its uploads in progress are seen as live too.
 */
function inUse(path: string): boolean {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch {
    return true; // gone already, or not ours to read: leave it alone
  }
  try {
    return !file.tryLockSync(true);
  } catch {
    return true; // no locks on this file system: keep the file rather than guess
  } finally {
    file.close();
  }
}

/**
 * Walks `dir` (not following symlinks) and removes the temporary upload files of dead processes.
 * Resolves with the paths removed; a directory that does not exist has none.
 *
 * @example
 * ```ts ignore
 * const removed = await removeStaleUploads("./uploads");
 * ```
 */
export async function removeStaleUploads(dir: string): Promise<string[]> {
  const removed: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(d));
    } catch {
      return; // missing or unreadable: nothing of ours to remove
    }
    for (const e of entries) {
      const path = join(d, e.name);
      if (e.isDirectory) await walk(path);
      else if (e.isFile && e.name.startsWith(TEMP_PREFIX)) {
        if (!NAMED.test(e.name) && !UNNAMED.test(e.name)) continue;
        if (inUse(path)) continue;
        try {
          await Deno.remove(path);
          removed.push(path);
        } catch {
          // gone already, or not ours to remove
        }
      }
    }
  };
  await walk(dir);
  return removed;
}
