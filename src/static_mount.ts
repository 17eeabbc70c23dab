/**
 * More static roots at URL prefixes of their own (`--static PREFIX=DIR`, repeatable): a Django
 * project's `collectstatic` output at its `STATIC_URL`, a Flask app's `static/` folder. They are
 * matched before the `--root` mount, so one at the same prefix (`/static/`) takes it over from
 * the sample site. The flag's value is parsed here, below the options table that reads it and the
 * static module that serves it (imports run down: `options.ts` does not import `static/`).
 *
 * @module
 */

import type { Rule } from "./option_spec.ts";

/** One extra static root. */
export interface StaticMount {
  /** URL prefix, starting and ending with `/`. */
  prefix: string;
  /** The directory served under it. */
  dir: string;
}

/**
 * `PREFIX=DIR` as a mount.
 *
 * @example
 * ```ts
 * import { parseStaticMount } from "./static_mount.ts";
 * console.log(parseStaticMount("/static/=./staticroot")); // { prefix: "/static/", dir: "./staticroot" }
 * ```
 */
export function parseStaticMount(text: string): StaticMount {
  const eq = text.indexOf("=");
  const mount = { prefix: eq < 0 ? "" : text.slice(0, eq), dir: eq < 0 ? "" : text.slice(eq + 1) };
  const problem = mountProblem(mount);
  if (problem !== undefined) throw new RangeError(`${problem}, like /static/=./staticroot (got ${text})`);
  return mount;
}

function mountProblem(m: StaticMount): string | undefined {
  if (!m.prefix.startsWith("/") || !m.prefix.endsWith("/")) {
    return "expected PREFIX=DIR, PREFIX starting and ending with /";
  }
  if (m.dir === "") return "expected PREFIX=DIR with a directory after =";
  return undefined;
}

/** The rule of `--static`: each flag adds one mount. */
export const staticMountsRule: Rule<StaticMount[]> = {
  arg: "<prefix=dir>",
  expected: "PREFIX=DIR, PREFIX starting and ending with /",
  parse: (t) => [parseStaticMount(t)],
  problem: (v) => {
    if (!Array.isArray(v)) return "must be a list of { prefix, dir }";
    for (const m of v) {
      const p =
        typeof m === "object" && m !== null && typeof m.prefix === "string" && typeof m.dir === "string"
          ? mountProblem(m)
          : "each mount is { prefix, dir }";
      if (p !== undefined) return p;
    }
    return undefined;
  },
  show: (v) => v.map((m) => `${m.prefix}=${m.dir}`).join(" "),
};
