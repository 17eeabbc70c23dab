/**
 * The Hono app of `deno task bench`'s Hono row, served by `ferry --app` and by `deno serve` as the
 * same file: `GET /json` answers a small JSON document with `c.json`.
 *
 * @module
 */

import { Hono } from "hono";

const app = new Hono();
app.get("/json", (c) => c.json({ message: "Hello, World!" }));
app.get("/", (c) => c.text("Hello, World!"));

export default app;
