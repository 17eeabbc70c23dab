/**
 * Debian's FastAPI 0.92, Starlette 0.26 and Django 3.2 under ferry's ASGI gateway: path, query and a
 * JSON body with validation (422), a dependency, HTTPException, BackgroundTasks after the response,
 * a StreamingResponse by order, an upload (python3-multipart); Starlette's WebSocket example;
 * Django's mysite.asgi:application.
 */

import assert from "assert";
import { wsClient } from "../../helpers/ws_client.ts";
import { header, text } from "../../helpers/client.ts";
import { pythonHas, startAsgi } from "../../helpers/python.ts";
import { ROOT } from "../../helpers/server.ts";
import { join } from "../../helpers/paths.ts";

const hasFastapi = pythonHas("fastapi");
const hasMultipart = pythonHas("multipart");

Deno.test({
  name: "fastapi: path, query, dependency, 422, HTTPException, BackgroundTasks, upload",
  ignore: !hasFastapi,
  async fn() {
    await using s = await startAsgi("fastapi_apps:app", { workers: 1 });
    const base = `http://127.0.0.1:${s.port}`;
    const ok = await fetch(`${base}/items/7?q=find`, { headers: { "x-token": "secret" } });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { item_id: 7, q: "find", token: "secret" });
    const noToken = await fetch(`${base}/items/7`);
    assert.equal(noToken.status, 401);
    assert.deepEqual(await noToken.json(), { detail: "bad token" });
    const notInt = await fetch(`${base}/items/seven`, { headers: { "x-token": "secret" } });
    assert.equal(notInt.status, 422);
    assert.equal((await notInt.json()).detail[0].loc.join("."), "path.item_id");
    const missing = await fetch(`${base}/items/0`, { headers: { "x-token": "secret" } });
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get("x-why"), "zero");
    assert.deepEqual(await missing.json(), { detail: "no item 0" });
    const bad = await fetch(`${base}/items`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "pen", price: "not a number" }),
    });
    assert.equal(bad.status, 422);
    assert.equal((await bad.json()).detail[0].loc.join("."), "body.price");
    const created = await fetch(`${base}/items`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "pen", price: 1.5 }),
    });
    assert.equal(created.status, 200);
    const body = await created.json();
    assert.deepEqual(body.log, ["handler pen"], "the background task has not run when the response is sent");
    let seen: string[] = [];
    for (let i = 0; i < 200 && !seen.includes("background pen"); i++) {
      seen = await (await fetch(`${base}/log`)).json();
      if (!seen.includes("background pen")) await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(seen, ["handler pen", "background pen"]);
    if (hasMultipart) {
      const form = new FormData();
      const bytes = new Uint8Array(200_000).map((_, i) => i % 7);
      form.append("file", new Blob([bytes]), "data.bin");
      const up = await fetch(`${base}/upload`, { method: "POST", body: form });
      assert.equal(up.status, 200);
      assert.deepEqual(await up.json(), {
        filename: "data.bin",
        size: 200_000,
        sum: bytes.reduce((a, b) => a + b, 0),
      });
    }
  },
});

Deno.test({
  name: "fastapi: a StreamingResponse sends each piece as it is yielded (by order)",
  ignore: !hasFastapi,
  async fn() {
    await using s = await startAsgi("fastapi_apps:app", { workers: 1 });
    const gate = join(await Deno.makeTempDir({ prefix: "ferry-fastapi-" }), "gate");
    const res = await fetch(`http://127.0.0.1:${s.port}/stream?gate=${encodeURIComponent(gate)}`);
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    let got = "";
    while (!got.includes("first;")) {
      const { value, done } = await reader.read();
      assert.ok(!done, "the first piece arrives before the end");
      got += new TextDecoder().decode(value);
    }
    assert.equal(got, "first;", "the second piece cannot exist yet");
    await Deno.writeTextFile(gate, "go");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      got += new TextDecoder().decode(value);
    }
    assert.equal(got, "first;second;");
  },
});

Deno.test({
  name: "starlette: the WebSocket example echoes and closes with 4000; its page is served",
  ignore: !pythonHas("starlette"),
  async fn() {
    await using s = await startAsgi("starlette_ws:app", {
      workers: 1,
      chdir: join(ROOT, "examples", "python"),
    });
    const page = await fetch(`http://127.0.0.1:${s.port}/`);
    assert.match(await page.text(), /connect a WebSocket/);
    const ws = new (await wsClient())(`ws://127.0.0.1:${s.port}/ws`, ["chat"]);
    await new Promise((ok, fail) => (ws.on("open", ok), ws.on("error", fail)));
    assert.equal(ws.protocol, "chat");
    const reply = new Promise<string>((ok) => ws.once("message", (d: Uint8Array) => ok(d.toString())));
    ws.send("hi");
    assert.equal(await reply, "echo: hi");
    const closed = new Promise<number>((ok) => ws.on("close", (c: number) => ok(c)));
    ws.send("bye");
    assert.equal(await closed, 4000);
  },
});

Deno.test({
  name: "django asgi: mysite.asgi:application serves the example project",
  ignore: !pythonHas("django"),
  async fn() {
    await using s = await startAsgi("mysite.asgi:application", {
      workers: 1,
      chdir: join(ROOT, "examples", "python"),
    });
    const res = await fetch(`http://127.0.0.1:${s.port}/`);
    const body = await res.text();
    assert.equal(res.status, 200, body);
    assert.ok(body.length > 0);
    void header;
    void text;
  },
});
