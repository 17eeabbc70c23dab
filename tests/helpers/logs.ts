/** Reading what a rotating JSON access log holds, for the rotation tests. */

import zlib from "zlib";

/**
 * Every line of the JSON log `name` in `dir`, parsed (so each must be whole): the live file and
 * the gzipped rotated files `name.….gz`. Also returns the rotated files' names.
 */
export async function readRotatedJsonLog(
  dir: string,
  name: string,
): Promise<{ entries: Array<Record<string, string>>; rotated: string[] }> {
  const names = [...Deno.readDirSync(dir)].map((e) => e.name);
  const rotated = names.filter((f) => f.startsWith(`${name}.`) && f.endsWith(".gz"));
  let all = await Deno.readTextFile(`${dir}/${name}`);
  for (const f of rotated) {
    all += new TextDecoder().decode(zlib.gunzipSync(await Deno.readFile(`${dir}/${f}`)));
  }
  const entries = all.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
  return { entries, rotated };
}

/** How many times each target appears in `entries`. */
export function countTargets(entries: Array<Record<string, string>>): Map<string, number> {
  const seen = new Map<string, number>();
  for (const e of entries) seen.set(e.target, (seen.get(e.target) ?? 0) + 1);
  return seen;
}
