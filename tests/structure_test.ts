/**
 * The layering, checked from the sources: no import cycle (type-only imports included); imports
 * run down one layer order (below), so no arrow points up; no module outside `src/http1/`
 * reaching into it but the server's wiring. Modules depend on the exchange contract in
 * `src/http/`. Tests mirror `src/`: every source folder has its test folder.
 */

import assert from "assert";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { needs } from "./helpers/needs.ts";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../src");
/** Who may import `src/http1/`: the server's wiring, the public API (ParseError), and http1 itself. */
const MAY_IMPORT_HTTP1 = [/^http1\//, /^server\.ts$/, /^mod\.ts$/];

/**
 * The layers of `src/`, bottom first: a file imports only from layers below its own, or from its
 * own folder (file) at or below its layer. Entries are folders (`net/`) or files (`stats.ts`); a
 * file entry inside a folder (`upstream/target.ts`) places that file apart from its folder. A new
 * folder or top-level file must be placed here.
 */
const LAYERS: string[][] = [
  // Bytes, units, clocks and sockets' output: no ferry import.
  ["bytes.ts", "units.ts", "bounded_map.ts", "version.ts", "stop_signals.ts", "net/", "field_coding/"],
  // How an option is declared and parsed.
  ["option_spec.ts"],
  // Flag values the options table parses for modules above it (static roots, --proxy).
  ["static_mount.ts", "upstream/target.ts", "upstream/upstream_config.ts", "upstream/proxy_flag.ts"],
  ["server_options.ts"],
  ["options.ts"],
  // A Python app's share of the counters, which `Stats` keeps by app.
  ["python_app_stats.ts"],
  // Counters (other layers attach their status by name, `Stats.status`) and logs.
  ["stats.ts", "log/"],
  // The exchange contract.
  ["http/"],
  ["tls/", "proxy/", "health.ts", "redirect.ts", "listen_error.ts"],
  // The protocols, each beside the others (HTTP/3 shares HTTP/2's pieces); WebSocket over the contract.
  ["process_probe.ts", "http1/", "http2/", "ws/"],
  ["http3/"],
  // Actions and what they need.
  ["static/", "route/", "acme/"],
  ["upload/", "app/", "metrics/", "upstream/"],
  // The wiring.
  ["server.ts"],
  ["mod.ts"],
  ["isolates.ts", "cli.ts"],
  // The config file: it builds the routes out of the actions and starts the server.
  ["isolate.ts", "config/"],
];

/** The LAYERS entry a `src/` file belongs to (the most specific one), with its layer's index. */
function placeOf(file: string): { entry: string; layer: number } | undefined {
  let best: { entry: string; layer: number } | undefined;
  LAYERS.forEach((entries, layer) => {
    for (const entry of entries) {
      const hit = entry.endsWith("/") ? file.startsWith(entry) : file === entry;
      if (hit && (best === undefined || entry.length > best.entry.length)) best = { entry, layer };
    }
  });
  return best;
}

/** The folder of a `src/` file ("" at the top). */
function folderOf(file: string): string {
  const slash = file.indexOf("/");
  return slash < 0 ? "" : file.slice(0, slash + 1);
}

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

Deno.test(
  "structure: imports run down the layer order; every file has its place in it",
  needs("read"),
  () => {
    const offenders: string[] = [];
    for (const [f, deps] of graph()) {
      const from = placeOf(f);
      if (from === undefined) {
        offenders.push(`${f} has no place in LAYERS (tests/structure_test.ts)`);
        continue;
      }
      for (const d of deps) {
        const to = placeOf(d);
        if (to === undefined) continue; // reported as its own file
        const sameFolder = folderOf(f) !== "" && folderOf(f) === folderOf(d);
        const down = to.layer < from.layer || to.entry === from.entry ||
          (sameFolder && to.layer <= from.layer);
        if (!down) {
          offenders.push(
            `${f} (layer ${from.layer}, ${from.entry}) imports ${d} (layer ${to.layer}, ${to.entry})`,
          );
        }
      }
    }
    assert.deepEqual(offenders, []);
  },
);

Deno.test("structure: only the server's wiring imports src/http1/", needs("read"), () => {
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
