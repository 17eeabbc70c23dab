/**
 * Python workers as users run ferry (main.ts under the start task's permissions): `--wsgi-max-rss`
 * recycles a worker from the memory it reports itself (ferry cannot read its /proc); an import
 * error is named even when the worker's exit is seen before its IMPORT_ERROR frame; Ctrl-C to the
 * terminal's process group and SIGTERM to every process of the service (systemd's
 * KillMode=control-group) let the request in flight finish with 200, and ferry exits 0.
 */

import assert from "assert";
import { join } from "path";
import { APPS, PYTHON } from "../../helpers/python.ts";
import { runFerry, startChild, until } from "../../helpers/server.ts";
import { ferryArgs } from "../../helpers/start_flags.ts";
import { needs } from "../../helpers/needs.ts";

const BASE = ["--port", "0", "--no-https", "--log-format", "none", "--wsgi-chdir", APPS];

Deno.test(
  "python workers: --wsgi-max-rss recycles a worker that grew past it",
  needs("read", "write", "run"),
  async () => {
    await using child = await startChild([
      ...BASE,
      "--wsgi-python",
      PYTHON,
      "--wsgi",
      "stepped_apps:app",
      "--wsgi-workers",
      "1",
      "--wsgi-max-rss",
      "60M",
    ]);
    const url = child.urls[0];
    const small = await (await fetch(`${url}grow?mb=0`)).text();
    assert.equal(await (await fetch(`${url}grow?mb=0`)).text(), small, "a small worker is kept");
    const grown = await (await fetch(`${url}grow?mb=80`)).text();
    assert.equal(grown, small);
    const next = await (await fetch(`${url}grow?mb=0`)).text();
    assert.notEqual(next, grown, "the worker past --wsgi-max-rss was replaced");
  },
);

Deno.test(
  "python workers: an import error is named even when the exit is seen first",
  needs("read", "write", "run"),
  async () => {
    const r = await runFerry([
      ...BASE,
      "--wsgi-python",
      join(APPS, "exit_first_python.py"),
      "--wsgi",
      "nosuch:app",
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.ok(/could not be loaded: .*No module named 'nosuch'/s.test(r.stderr), r.stderr);
  },
);

/** ferry in a session of its own (as a terminal's foreground job), serving stepped_apps. */
async function startInGroup(dir: string) {
  const child = new Deno.Command("setsid", {
    args: [
      Deno.execPath(),
      ...ferryArgs([...BASE, "--wsgi-python", PYTHON, "--wsgi", "stepped_apps:app", "--wsgi-workers", "1"]),
    ],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  let out = "";
  let err = "";
  const dec = new TextDecoder();
  const pumps = Promise.all([
    (async () => {
      for await (const c of child.stdout) out += dec.decode(c, { stream: true });
    })(),
    (async () => {
      for await (const c of child.stderr) err += dec.decode(c, { stream: true });
    })(),
  ]);
  await until(() => /listening on http:\/\/[^:]+:(\d+)/.test(out), `ferry to start: ${out} ${err}`, 60000);
  const port = Number(/listening on http:\/\/[^:]+:(\d+)/.exec(out)![1]);
  return { child, port, out: () => out, err: () => err, pumps };
}

for (
  const [what, signal, toWorkers] of [
    ["Ctrl-C to the terminal's process group", "INT", false],
    ["SIGTERM to every process of the service", "TERM", true],
  ] as const
) {
  Deno.test(
    `python workers: ${what} lets the request in flight finish with 200, exit 0`,
    needs("read", "write", "run"),
    async () => {
      const dir = await Deno.makeTempDir();
      const started = join(dir, "started");
      const go = join(dir, "go");
      const ferry = await startInGroup(dir);
      try {
        const res = fetch(`http://127.0.0.1:${ferry.port}/in-flight?started=${started}&go=${go}`);
        await until(() => {
          try {
            return Deno.statSync(started).isFile;
          } catch {
            return false;
          }
        }, "the request to reach the app");
        const pids = [`-${ferry.child.pid}`]; // the process group, as a terminal signals it
        if (toWorkers) {
          // systemd's KillMode=control-group signals every process of the unit, workers included.
          const ps = await new Deno.Command("pgrep", { args: ["-P", String(ferry.child.pid)] }).output();
          pids.push(...new TextDecoder().decode(ps.stdout).split(/\s+/).filter((p) => p !== ""));
          assert.ok(pids.length >= 2, "the worker is ferry's child");
        }
        const kill = await new Deno.Command("kill", { args: [`-${signal}`, "--", ...pids] }).output();
        assert.ok(kill.success, new TextDecoder().decode(kill.stderr));
        await until(() => ferry.out().includes("draining"), `the drain to begin: ${ferry.out()}`);
        await Deno.writeTextFile(go, "");
        const r = await res;
        assert.equal(r.status, 200, ferry.err());
        assert.equal(await r.text(), "finished in flight\n");
        const status = await ferry.child.status;
        await ferry.pumps;
        assert.equal(status.code, 0, `exit ${status.code}: ${ferry.err()}`);
        assert.doesNotMatch(ferry.err(), /KeyboardInterrupt/);
      } finally {
        try {
          ferry.child.kill("SIGKILL");
        } catch {
          // exited
        }
        await ferry.child.status;
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}
