/**
 * ferry is tested as users run it: the start task and the compile task grant the same
 * permissions, and no test starts ferry with `--allow-all`.
 */

import assert from "assert";
import { permissionFlags, startFlags, tasks } from "./helpers/start_flags.ts";
import { fromFileUrl } from "./helpers/paths.ts";
import { compileArgs } from "../scripts/compile.ts";
import { needs } from "./helpers/needs.ts";

Deno.test(
  "start flags: the start task and the compile task grant the same permissions",
  needs("read"),
  () => {
    const t = tasks();
    assert.ok(startFlags().length > 0, `no permission flags in the start task: ${t.start}`);
    assert.ok(!startFlags().includes("--allow-all") && !startFlags().includes("-A"));
    // The compile task runs scripts/compile.ts, which takes the start task's flags.
    assert.match(t.compile, /scripts\/compile\.ts/);
    assert.deepEqual(compileArgs().filter((a) => permissionFlags(a).length > 0), [...startFlags()]);
  },
);

Deno.test("start flags: no test starts main.ts with --allow-all", needs("read"), async () => {
  const dir = fromFileUrl(new URL("./", import.meta.url));
  const offenders: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else if (p.endsWith(".ts") && !/start_flags(_test)?\.ts$/.test(p)) {
        const src = await Deno.readTextFile(p);
        const spawns = /Deno\.Command|spawn\(/.test(src) && /main\.ts/.test(src);
        if (spawns && /["'` ](--allow-all|-A)["'` ]/.test(src)) offenders.push(p);
      }
    }
  };
  await walk(dir.replace(/\/$/, ""));
  assert.deepEqual(offenders, [], "use tests/helpers/start_flags.ts (the start task's permissions)");
});
