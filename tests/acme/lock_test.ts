/**
 * The lock file of --acme-dir: one holder at a time, released on demand, and a lock whose holder
 * went away without releasing it is broken once it has expired.
 */

import assert from "assert";
import { FileLock } from "../../src/acme/lock.ts";
import { needs } from "../helpers/needs.ts";

Deno.test("lock: one holder; released; an expired lock is broken", needs("write"), async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/locks/a.test.lock`;
  const first = await FileLock.acquire(path, 60_000);
  assert.ok(first);
  assert.equal(await FileLock.acquire(path, 60_000), undefined);
  assert.ok(await FileLock.held(path));
  await first.release();
  assert.equal(await FileLock.held(path), false);
  const second = await FileLock.acquire(path, 60_000);
  assert.ok(second);
  await second.release();
  // A holder that died: its lock says it expired a second ago.
  await Deno.writeTextFile(path, JSON.stringify({ owner: "gone", expires: Date.now() - 1000 }));
  assert.equal(await FileLock.held(path), false);
  const third = await FileLock.acquire(path, 60_000);
  assert.ok(third);
  await third.release();
  await Deno.remove(dir, { recursive: true });
});
