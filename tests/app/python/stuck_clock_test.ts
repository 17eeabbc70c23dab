/**
 * The clock of `--wsgi-timeout` (`src/app/python/stuck_clock.ts`): each progress starts a full
 * timeout over, a pause stops it until the next progress, a stop ends it for good, and 0 never runs.
 */

import assert from "assert";
import { type DeadlineWatcher, StuckClock } from "../../../src/app/python/stuck_clock.ts";

/** A watcher whose deadlines are fired by hand. */
class HandWatcher implements DeadlineWatcher {
  armed = new Set<() => void>();
  arms = 0;
  watch(_ms: number, expire: () => void): () => void {
    this.arms++;
    this.armed.add(expire);
    return () => this.armed.delete(expire);
  }
  fire(): void {
    for (const e of [...this.armed]) {
      this.armed.delete(e);
      e();
    }
  }
}

Deno.test("stuck clock: progress re-arms one deadline, pause and stop disarm it, 0 never arms", () => {
  const w = new HandWatcher();
  let stuck = 0;
  const clock = new StuckClock(w, 1000, () => stuck++);
  clock.progress();
  clock.progress();
  clock.progress();
  assert.equal(w.armed.size, 1, "one deadline at a time");
  assert.equal(w.arms, 3, "each progress starts the timeout over");
  clock.pause();
  w.fire();
  assert.equal(stuck, 0, "paused: waiting on the client is not the app's silence");
  clock.progress();
  w.fire();
  assert.equal(stuck, 1);
  clock.stop();
  clock.progress();
  assert.equal(w.armed.size, 0, "stopped for good");
  const never = new StuckClock(w, 0, () => stuck++);
  never.progress();
  assert.equal(w.armed.size, 0);
});
