/**
 * `deno task compile`: one `deno compile` for ferry, with the start task's permissions (read from
 * `deno.json`, so the binary grants what `deno task start` grants) and every file ferry reads at
 * run time embedded: the sample site, the isolate module of `--workers`, and the Python workers.
 * The release workflow runs the same task with `--target` (and the output named after it).
 *
 * @example
 * ```sh
 * deno task compile                                        # dist/ferry for this machine
 * deno task compile --target aarch64-unknown-linux-gnu     # dist/ferry-aarch64-unknown-linux-gnu
 * ```
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Module files started as workers (`new Worker(new URL(...))`), which compile does not follow. */
export const WORKER_MODULES: readonly string[] = ["src/isolate.ts"];
/** Directories read at run time. */
export const RUNTIME_DIRS: readonly string[] = ["static"];
/** Where the Python workers live: every `.py` there is embedded. */
export const PYTHON_DIR = "src/app/python";

/** The start task's permission flags (`--allow-*`, `--deny-*`, `--unstable-*`). */
export function startPermissions(): string[] {
  const config = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json")));
  return String(config.tasks.start).split(/\s+/).filter((w) => /^--(allow|deny|unstable)-/.test(w));
}

/**
 * The start task's V8 flags (`--v8-flags=...`): ferry's young generation is capped at 8 MiB
 * semi-spaces, so that a server holding thousands of connections does not keep 32 MiB of it.
 */
export function startV8Flags(): string[] {
  const config = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json")));
  return String(config.tasks.start).split(/\s+/).filter((w) => w.startsWith("--v8-flags="));
}

/** Every file and directory to embed, relative to the repository root. */
export function runtimeIncludes(): string[] {
  const py = [...Deno.readDirSync(join(ROOT, PYTHON_DIR))]
    .filter((e) => e.isFile && e.name.endsWith(".py"))
    .map((e) => `${PYTHON_DIR}/${e.name}`)
    .sort();
  return [...RUNTIME_DIRS, ...WORKER_MODULES, ...py];
}

/** The output path for a target triple (or for this machine). */
export function outputFor(target: string | undefined): string {
  if (target === undefined) return "dist/ferry";
  return `dist/ferry-${target}${target.includes("windows") ? ".exe" : ""}`;
}

/**
 * The arguments of `deno compile` (after `deno`), for `target` (this machine when undefined).
 *
 * @example
 * ```ts ignore
 * console.log(compileArgs("x86_64-unknown-linux-gnu").join(" "));
 * ```
 */
export function compileArgs(target?: string): string[] {
  return [
    "compile",
    ...startPermissions(),
    ...startV8Flags(),
    ...runtimeIncludes().flatMap((p) => ["--include", p]),
    ...(target !== undefined ? ["--target", target] : []),
    "--output",
    outputFor(target),
    "main.ts",
  ];
}

/** Parses `--target T` / `--target=T`; anything else is refused. */
function parseArgs(args: string[]): { target?: string } {
  const out: { target?: string } = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--target" && i + 1 < args.length) out.target = args[++i];
    else if (a.startsWith("--target=")) out.target = a.slice("--target=".length);
    else throw new Error(`unknown argument ${a}: the only option is --target TRIPLE`);
  }
  return out;
}

if (import.meta.main) {
  let target: string | undefined;
  try {
    target = parseArgs(Deno.args).target;
  } catch (e) {
    console.error(`compile: ${e instanceof Error ? e.message : e}`);
    Deno.exit(2);
  }
  const args = compileArgs(target);
  console.log(`deno ${args.join(" ")}`);
  const status = await new Deno.Command(Deno.execPath(), { args, cwd: ROOT }).spawn().status;
  if (status.success) console.log(`compile: wrote ${outputFor(target)}`);
  Deno.exit(status.code);
}
