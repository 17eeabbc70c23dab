/**
 * The module each `--workers` isolate loads: it runs the isolate's side of the supervisor's
 * message protocol (`isolates.ts`). `deno compile` embeds it (`--include src/isolate.ts`), since
 * isolates are started from its URL.
 *
 * @module
 */

import { type IsolateScope, serveIsolate } from "./isolates.ts";

serveIsolate(globalThis as unknown as IsolateScope);
