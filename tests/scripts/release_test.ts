/**
 * The release workflow and `deno task compile` agree: the workflow parses, builds every platform
 * with the compile task itself (`--target` appended), and the task embeds every file ferry reads
 * at run time, with the start task's permissions. (`deno compile` itself cannot run here: its
 * runtime download is not reachable.)
 */

import assert from "assert";
import { parse } from "yaml";
import { compileArgs, outputFor, runtimeIncludes } from "../../scripts/compile.ts";
import { startFlags, tasks } from "../helpers/start_flags.ts";
import { fromFileUrl } from "../helpers/paths.ts";
import { needs } from "../helpers/needs.ts";

const ROOT = fromFileUrl(new URL("../../", import.meta.url));

function walk(dir: string, out: string[] = []): string[] {
  for (const e of Deno.readDirSync(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) walk(p, out);
    else out.push(p);
  }
  return out;
}

Deno.test(
  "release: the workflow parses and builds the five targets with `deno task compile`",
  needs("read"),
  () => {
    const wf = parse(Deno.readTextFileSync(`${ROOT}.github/workflows/release.yml`));
    assert.deepEqual(wf.on.push.tags, ["v*"]);
    const build = wf.jobs.build;
    assert.deepEqual(build.strategy.matrix.target.sort(), [
      "aarch64-apple-darwin",
      "aarch64-unknown-linux-gnu",
      "x86_64-apple-darwin",
      "x86_64-pc-windows-msvc",
      "x86_64-unknown-linux-gnu",
    ]);
    const runs: string[] = build.steps.filter((s: { run?: string }) => s.run).map((s: { run: string }) =>
      s.run
    );
    assert.deepEqual(runs, ["deno task compile --target ${{ matrix.target }}"]);
    const upload = build.steps.find((s: { uses?: string }) => s.uses?.startsWith("actions/upload-artifact"));
    assert.equal(upload.with.path, "dist/ferry-${{ matrix.target }}*");
    assert.ok(outputFor("x86_64-pc-windows-msvc").startsWith("dist/ferry-x86_64-pc-windows-msvc"));
    const release = wf.jobs.release.steps.map((s: { run?: string }) => s.run ?? "").join("\n");
    assert.match(release, /sha256sum ferry-\* > SHA256SUMS/);
    assert.match(release, /gh release create .* dist\/\*/);
    assert.match(tasks().compile, /scripts\/compile\.ts/);
  },
);

Deno.test(
  "release: the compiled binary grants the start task's permissions and V8 flags",
  needs("read"),
  () => {
    const args = compileArgs("x86_64-unknown-linux-gnu");
    assert.deepEqual(args.filter((a) => /^--(allow|deny|unstable)-/.test(a)), [...startFlags()]);
    // And its V8 flags (the young generation's cap), as `deno task start` runs it.
    assert.deepEqual(
      args.filter((a) => a.startsWith("--v8-flags=")),
      tasks().start.split(/\s+/).filter((w) => w.startsWith("--v8-flags=")),
    );
    assert.ok(
      args.includes("--v8-flags=--max-semi-space-size=8"),
      "the start task caps the young generation",
    );
    assert.ok(!args.includes("--allow-all") && !args.includes("-A"));
    assert.deepEqual(args.slice(-3), ["--output", "dist/ferry-x86_64-unknown-linux-gnu", "main.ts"]);
  },
);

Deno.test("release: every file ferry reads at run time is embedded", needs("read"), () => {
  const included = runtimeIncludes();
  const covered = (rel: string) => included.some((inc) => rel === inc || rel.startsWith(`${inc}/`));
  // Every Python worker (a new one beside them is picked up by the task, never forgotten).
  for (const p of walk(`${ROOT}src/app/python`).filter((p) => p.endsWith(".py"))) {
    assert.ok(covered(p.slice(ROOT.length)), `${p} is not --include'd`);
  }
  // Every file a module finds beside itself at run time: new URL("./x", import.meta.url).
  for (const file of [`${ROOT}main.ts`, ...walk(`${ROOT}src`).filter((p) => p.endsWith(".ts"))]) {
    const src = Deno.readTextFileSync(file);
    for (const m of src.matchAll(/new URL\("(\.[^"]*)", import\.meta\.url\)/g)) {
      const rel = new URL(m[1], `file://${file}`).pathname.slice(ROOT.length).replace(/\/$/, "");
      assert.ok(covered(rel), `${file.slice(ROOT.length)} reads ${rel} at run time: --include it`);
    }
  }
});
