/**
 * Temporary upload files a crash left behind. An upload streams into
 * `.ferry-upload-<pid>-<uuid>.tmp` beside its target and is renamed into place when complete; a
 * `kill -9` mid-upload leaves the temporary file, which no request can reach or remove. At start
 * the upload module removes every such file whose process is gone (and files of the older
 * `.ferry-upload-<uuid>.tmp` form, which carried no pid).
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

const NAMED_PID = /^\.ferry-upload-(\d+)-[0-9a-f-]{36}\.tmp$/;
const UNNAMED = /^\.ferry-upload-[0-9a-f-]{36}\.tmp$/;

/** Whether a process with this pid exists (on Linux, from /proc; elsewhere assumed alive). */
function alive(pid: number): boolean {
  if (pid === Deno.pid) return true;
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      try {
        Deno.statSync("/proc/self");
        return false; // /proc works, and that pid is not in it
      } catch {
        return true; // no /proc here: keep the file rather than guess
      }
    }
    return true;
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
        const m = NAMED_PID.exec(e.name);
        const stale = m !== null ? !alive(Number(m[1])) : UNNAMED.test(e.name);
        if (!stale) continue;
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
