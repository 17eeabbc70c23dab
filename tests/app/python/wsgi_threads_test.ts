/**
 * --wsgi-threads: one WSGI worker process serves N requests at once on N threads (gunicorn's
 * gthread), with wsgi.multithread true.
 */

import assert from "assert";
import { exchange, text } from "../../helpers/client.ts";
import { startWsgi } from "../../helpers/python.ts";

const get = (port: number, target: string) => exchange(port, `GET ${target} HTTP/1.1\r\nHost: t\r\n\r\n`);

Deno.test("wsgi threads: one worker with --wsgi-threads 4 serves four slow requests at once", async () => {
  await using s = await startWsgi("threaded_apps:app", { workers: 1, threads: 4, maxQueue: 0 });
  const results = await Promise.all([1, 2, 3, 4].map((i) => get(s.port, `/slow?${i}`)));
  assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200]);
  const bodies = results.map((r) => JSON.parse(text(r)));
  assert.ok(bodies.every((b) => b.multithread === true));
  assert.equal(new Set(bodies.map((b) => b.thread)).size, 4, "four threads");
  const marks: Array<[string, string]> = JSON.parse(text(await get(s.port, "/marks")));
  assert.equal(marks.findIndex(([kind]) => kind === "end"), 4, "all four started before any ended");
  assert.equal(s.pool.size, 1);
  // A fifth while four run: with no queue it is a 503, as a busy single-threaded worker's would be.
  const busy = [1, 2, 3, 4].map((i) => get(s.port, `/slow?b${i}`));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await get(s.port, "/marks")).status, 503);
  await Promise.all(busy);
});
