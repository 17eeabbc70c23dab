/**
 * Fetch apps get ferry's "client gone" signal as `request.signal`: an app silent in a long poll
 * sees it abort when the client leaves, over a real socket.
 */

import assert from "assert";
import { fetchHandler } from "../../src/app/fetch.ts";
import { RawClient } from "../helpers/client.ts";
import { startServer, until } from "../helpers/server.ts";

Deno.test("fetch app: request.signal aborts when the client of a long poll leaves", async () => {
  const seen: string[] = [];
  const app = {
    fetch(request: Request): Promise<Response> {
      seen.push("waiting");
      return new Promise((resolve) => {
        request.signal.addEventListener("abort", () => {
          seen.push("aborted");
          resolve(new Response("gone\n"));
        });
      });
    },
  };
  await using s = await startServer({ handler: fetchHandler(app) });
  const c = await RawClient.connect(s.port);
  await c.send("GET /poll HTTP/1.1\r\nHost: t\r\n\r\n");
  await until(() => seen.includes("waiting"), "the app to wait");
  c.conn.close();
  await until(() => seen.includes("aborted"), "the app to see request.signal abort");
  assert.deepEqual(seen, ["waiting", "aborted"]);
});
