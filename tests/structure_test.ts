/**
 * The layering, checked from the sources: no import cycle (type-only imports included), and no
 * module outside `src/http1/` reaching into it but the server's wiring and WebSockets (an
 * HTTP/1.1 upgrade). Modules depend on the exchange contract in `src/http/`. Tests mirror `src/`:
 * every source folder has its test folder.
 */

import assert from "assert";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { needs } from "./helpers/needs.ts";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../src");
/** Who may import `src/http1/`: the server's wiring, the public API, WebSockets, and http1 itself. */
const MAY_IMPORT_HTTP1 = [/^http1\//, /^ws\//, /^server\.ts$/, /^mod\.ts$/];

/** Every `.ts` file under `dir`, relative to `src/`. */
function sources(dir = SRC): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) out.push(...sources(p));
    else if (e.name.endsWith(".ts")) out.push(relative(SRC, p));
  }
  return out.sort();
}

/** The `src/` files a file imports or re-exports (static and type-only). */
function importsOf(file: string): string[] {
  const text = Deno.readTextFileSync(join(SRC, file));
  const specs = [...text.matchAll(/^(?:import|export)\b[^;]*?from\s+"(\.{1,2}\/[^"]+)"/gms)].map((m) => m[1]);
  return specs.map((s) => relative(SRC, resolve(SRC, dirname(file), s))).filter((p) => !p.startsWith(".."));
}

let cachedGraph: Map<string, string[]> | undefined;

/** src/'s import graph, read on first use (never at load time). */
function graph(): Map<string, string[]> {
  return cachedGraph ??= new Map(sources().map((f) => [f, importsOf(f)]));
}

Deno.test("structure: no import cycle in src/, type-only imports included", needs("read"), () => {
  const state = new Map<string, "open" | "done">();
  const cycles: string[] = [];
  const visit = (f: string, path: string[]) => {
    if (state.get(f) === "done") return;
    if (state.get(f) === "open") {
      cycles.push([...path.slice(path.indexOf(f)), f].join(" → "));
      return;
    }
    state.set(f, "open");
    for (const g of graph().get(f) ?? []) visit(g, [...path, f]);
    state.set(f, "done");
  };
  for (const f of graph().keys()) visit(f, []);
  assert.deepEqual(cycles, []);
});

Deno.test("structure: only the server's wiring and WebSockets import src/http1/", needs("read"), () => {
  const offenders: string[] = [];
  for (const [f, deps] of graph()) {
    if (MAY_IMPORT_HTTP1.some((r) => r.test(f))) continue;
    for (const d of deps) if (d.startsWith("http1/")) offenders.push(`${f} imports ${d}`);
  }
  assert.deepEqual(offenders, []);
});

Deno.test("structure: src/http/ (the exchange contract) imports no protocol", needs("read"), () => {
  const offenders: string[] = [];
  for (const [f, deps] of graph()) {
    if (!f.startsWith("http/")) continue;
    for (const d of deps) if (/^(http1|http2|ws)\//.test(d)) offenders.push(`${f} imports ${d}`);
  }
  assert.deepEqual(offenders, []);
});

Deno.test(
  "structure: tests mirror src/: each source folder has a test folder with a test in it",
  needs("read"),
  () => {
    const TESTS = resolve(SRC, "../tests");
    const folders = (dir: string): string[] =>
      [...Deno.readDirSync(dir)].filter((e) => e.isDirectory).flatMap((e) => {
        const p = join(dir, e.name);
        return [relative(SRC, p), ...folders(p)];
      });
    const missing: string[] = [];
    for (const folder of folders(SRC).sort()) {
      let tests: string[] = [];
      try {
        tests = [...Deno.readDirSync(join(TESTS, folder))].map((e) => e.name).filter((n) =>
          n.endsWith("_test.ts")
        );
      } catch {
        // no such folder
      }
      if (tests.length === 0) missing.push(`src/${folder}/ has no tests/${folder}/*_test.ts`);
    }
    assert.deepEqual(missing, []);
  },
);
