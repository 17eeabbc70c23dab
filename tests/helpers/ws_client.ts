/**
 * The npm `ws` client, loaded when a test first uses it: `ws` reads the environment as it loads,
 * so a top-level import would fail a whole file under `deno test --allow-net` (see needs.ts).
 *
 * @module
 */

import type WsClient from "ws";

/** The `ws` package's `WebSocket` class (needs `--allow-env`). */
export async function wsClient(): Promise<typeof WsClient> {
  return (await import("ws")).default;
}
