/**
 * The Python gateway's private directory (worker sockets, the worker scripts, request bodies
 * spilled to disk), kept where a later start can find what a killed ferry left: under one
 * per-user directory, `$TMPDIR/ferry-<uid>/` (0700, checked to be ours and not a link), each
 * running gateway in its own `wsgi-*` directory holding a Unix socket, `alive.sock`, that it
 * listens on for as long as it runs. A later start removes every `wsgi-*` directory whose socket
 * refuses a connection (its owner is gone: `kill -9` and OOM kills included), a rule that needs
 * no `/proc` and no process ids, so it works under the start task's permissions.
 *
 * @module
 */

import { join } from "path";

/** A directory of one's own, until {@linkcode PrivateDir.close}. */
export interface PrivateDir {
  /** Its path. */
  path: string;
  /** Stops answering on its socket and removes it, with everything in it. */
  close(): Promise<void>;
}

/** Where the per-user directory lives. */
function base(): string {
  const tmp = Deno.env.get("TMPDIR") || "/tmp";
  let uid: number | null = null;
  try {
    uid = Deno.uid();
  } catch {
    // not allowed to ask: one directory for whoever runs ferry here
  }
  return join(tmp, `ferry-${uid ?? "user"}`);
}

/** Whether a gateway still answers on `dir`'s socket. */
async function answers(dir: string): Promise<boolean> {
  try {
    const c = await Deno.connect({ transport: "unix", path: join(dir, "alive.sock") });
    c.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes the `wsgi-*` directories of gateways that are gone under the per-user directory `root`;
 * resolves with the paths removed. One without its socket yet is left alone for a minute (its
 * gateway may be starting).
 *
 * @example
 * ```ts ignore
 * const removed = await removeStaleDirs("/tmp/ferry-1000");
 * ```
 */
export async function removeStaleDirs(root: string): Promise<string[]> {
  const removed: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(root));
  } catch {
    return removed;
  }
  for (const e of entries) {
    if (!e.isDirectory || !e.name.startsWith("wsgi-")) continue;
    const dir = join(root, e.name);
    if (await answers(dir)) continue;
    try {
      const sock = await Deno.lstat(join(dir, "alive.sock")).catch(() => undefined);
      if (sock === undefined) {
        const st = await Deno.lstat(dir);
        if (st.mtime !== null && Date.now() - st.mtime.getTime() < 60_000) continue;
      }
      await Deno.remove(dir, { recursive: true });
      removed.push(dir);
    } catch {
      // removed by another start meanwhile, or not ours
    }
  }
  return removed;
}

/**
 * Makes the per-user directory if needed (0700; refused when it is a link or another user's),
 * removes what gone gateways left in it, and makes this gateway's directory with its socket.
 * Where the per-user directory cannot be used, a fresh temporary directory is used instead (a
 * later start then cannot clean it up) and `warn` says why.
 *
 * @example
 * ```ts ignore
 * const dir = await openPrivateDir((m) => console.warn(m));
 * await dir.close();
 * ```
 */
export async function openPrivateDir(
  warn: (message: string, fields: Record<string, unknown>) => void,
): Promise<
  PrivateDir
> {
  const root = base();
  let parent: string | undefined = root;
  try {
    await Deno.mkdir(root, { recursive: true, mode: 0o700 });
    const st = await Deno.lstat(root);
    const uid = (() => {
      try {
        return Deno.uid();
      } catch {
        return null;
      }
    })();
    if (!st.isDirectory || st.isSymlink || (uid !== null && st.uid !== uid)) {
      throw new Error("it is not a directory of this user's (a link, or another user's)");
    }
    await Deno.chmod(root, 0o700);
    const removed = await removeStaleDirs(root);
    if (removed.length > 0) {
      warn("removed what stopped Python gateways left behind (worker sockets, spilled bodies)", {
        dirs: removed.length,
      });
    }
  } catch (e) {
    warn("cannot use the per-user directory for the Python gateway; using a fresh one", {
      dir: root,
      error: e instanceof Error ? e.message : String(e),
      fix: "remove it or set TMPDIR to a directory of your own",
    });
    parent = undefined;
  }
  const path = await Deno.makeTempDir(
    parent !== undefined ? { dir: parent, prefix: "wsgi-" } : { prefix: "ferry-wsgi-" },
  );
  await Deno.chmod(path, 0o700);
  const listener = Deno.listen({ transport: "unix", path: join(path, "alive.sock") });
  const serving = (async () => {
    try {
      for await (const c of listener) c.close();
    } catch {
      // closed
    }
  })();
  return {
    path,
    async close() {
      try {
        listener.close();
      } catch {
        // closed already
      }
      await serving;
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}
