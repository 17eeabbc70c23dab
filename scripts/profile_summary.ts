/**
 * Summarises a V8 `.cpuprofile` (from `deno run --cpu-prof`): self time by function, the hottest
 * first. Usage: `deno run --allow-read scripts/profile_summary.ts FILE.cpuprofile [N]`.
 *
 * @module
 */

/** A node of a V8 CPU profile (the fields used here). */
export interface Node {
  /** Node id. */
  id: number;
  /** The function and where it is. */
  callFrame: { functionName: string; url: string; lineNumber: number };
  /** Samples taken in this node. */
  hitCount?: number;
  /** Child node ids. */
  children?: number[];
}

/** Self-time shares by function, from a parsed profile. */
export function summarise(profile: { nodes: Node[] }): Array<{ name: string; share: number }> {
  const byName = new Map<string, number>();
  let total = 0;
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    total += hits;
    const file = n.callFrame.url.replace(/^.*\/(src|ext|node_modules|npm)\//, "$1/");
    const name = `${n.callFrame.functionName || "(anonymous)"} ${file}:${n.callFrame.lineNumber + 1}`;
    byName.set(name, (byName.get(name) ?? 0) + hits);
  }
  return [...byName].map(([name, hits]) => ({ name, share: hits / total })).sort((a, b) => b.share - a.share);
}

if (import.meta.main) {
  const [file, n] = Deno.args;
  if (!file) {
    console.error("usage: profile_summary.ts FILE.cpuprofile [N]");
    Deno.exit(2);
  }
  const rows = summarise(JSON.parse(await Deno.readTextFile(file)));
  for (const r of rows.slice(0, Number(n ?? 40))) {
    console.log(`${(r.share * 100).toFixed(1).padStart(5)}%  ${r.name}`);
  }
}
