/**
 * A bounded in-memory cache of small files, least recently used out first. Entries are checked
 * against a fresh `stat` on every use (size, mtime, inode), so a changed file is never served
 * stale. Compressed variants are cached beside the bytes and count against the same bound.
 *
 * @module
 */

/** A cached file. */
export interface CachedFile {
  /** Resolved path. */
  path: string;
  /** Size when read. */
  size: number;
  /** mtime (ms) when read. */
  mtimeMs: number;
  /** Inode when read. */
  ino: number;
  /** The bytes. */
  data: Uint8Array;
  /** Compressed variants by coding. */
  variants: Map<string, Uint8Array>;
}

/**
 * The cache.
 *
 * @example
 * ```ts ignore
 * const cache = new FileCache(64 << 20, 256 << 10);
 * const hit = cache.get(path, stat);
 * ```
 */
export class FileCache {
  /** Most bytes held. */
  readonly maxBytes: number;
  /** Largest file cached. */
  readonly maxFileBytes: number;
  #entries = new Map<string, CachedFile>();
  #bytes = 0;
  /** The entry last put or moved to the end (the most recently used). */
  #last: CachedFile | undefined;

  /** A cache of at most `maxBytes`, holding files up to `maxFileBytes`. */
  constructor(maxBytes: number, maxFileBytes: number) {
    this.maxBytes = maxBytes;
    this.maxFileBytes = Math.min(maxFileBytes, maxBytes);
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The entry for `path` if it still matches `stat`; a stale entry is dropped. */
  get(path: string, stat: Deno.FileInfo): CachedFile | undefined {
    const e = this.#entries.get(path);
    if (e === undefined) return undefined;
    if (e.size !== stat.size || e.mtimeMs !== (stat.mtime?.getTime() ?? 0) || e.ino !== (stat.ino ?? 0)) {
      this.#drop(e);
      return undefined;
    }
    // Most recently used goes last (a file asked for again and again is there already).
    if (e !== this.#last) {
      this.#entries.delete(path);
      this.#entries.set(path, e);
      this.#last = e;
    }
    return e;
  }

  /** Caches `data` for `path` (when it fits). */
  put(path: string, stat: Deno.FileInfo, data: Uint8Array): CachedFile | undefined {
    if (data.length > this.maxFileBytes) return undefined;
    const old = this.#entries.get(path);
    if (old !== undefined) this.#drop(old);
    const e: CachedFile = {
      path,
      size: stat.size,
      mtimeMs: stat.mtime?.getTime() ?? 0,
      ino: stat.ino ?? 0,
      data,
      variants: new Map(),
    };
    this.#entries.set(path, e);
    this.#last = e;
    this.#bytes += data.length;
    this.#evict();
    return this.#entries.has(path) ? e : undefined;
  }

  /** Adds a compressed variant to an entry. */
  putVariant(e: CachedFile, coding: string, data: Uint8Array): void {
    if (!this.#entries.has(e.path) || e.variants.has(coding)) return;
    e.variants.set(coding, data);
    this.#bytes += data.length;
    this.#evict();
  }

  #drop(e: CachedFile): void {
    if (this.#entries.get(e.path) !== e) return;
    this.#entries.delete(e.path);
    if (this.#last === e) this.#last = undefined;
    this.#bytes -= e.data.length;
    for (const v of e.variants.values()) this.#bytes -= v.length;
  }

  #evict(): void {
    for (const e of this.#entries.values()) {
      if (this.#bytes <= this.maxBytes) break;
      this.#drop(e);
    }
  }
}
