/**
 * A Hono app served by ferry as it is: `deno task start --app examples/hono_app.ts`.
 *
 * @module
 */

import { Hono } from "hono";

const app = new Hono();
app.get("/", (c) => c.text("Hello from Hono on ferry"));
app.get("/users/:id", (c) => c.json({ id: c.req.param("id"), scheme: new URL(c.req.url).protocol }));
app.post("/echo", async (c) => c.text(await c.req.text()));

export default app;
