/**
 * "Did you mean …?" for an unknown key: the closest known name by edit distance (Damerau's
 * transpositions count as one edit), when it is close enough to be a typo.
 *
 * @module
 */

/** Edit distance between `a` and `b` (insertions, deletions, substitutions, adjacent swaps). */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[0].push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, rows[i - 2][j - 2] + 1);
      }
      rows[i].push(d);
    }
  }
  return rows[a.length][b.length];
}

/**
 * The known name `word` was most likely meant to be, or undefined when none is close (at most
 * a third of the word's letters wrong, and 3 at most; case and `-`/`_` ignored).
 *
 * @example
 * ```ts
 * import { didYouMean } from "./did_you_mean.ts";
 * console.log(didYouMean("rotes", ["hosts", "routes", "tls"])); // "routes"
 * ```
 */
export function didYouMean(word: string, known: Iterable<string>): string | undefined {
  const norm = (s: string) => s.toLowerCase().replaceAll("-", "_");
  const w = norm(word);
  let best: string | undefined;
  let bestDistance = Math.min(3, Math.max(1, Math.floor(w.length / 3)));
  for (const k of known) {
    const d = editDistance(w, norm(k));
    if (d <= bestDistance && (best === undefined || d < editDistance(w, norm(best)))) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}
