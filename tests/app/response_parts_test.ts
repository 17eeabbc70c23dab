/**
 * `responseParts` (`src/app/response_parts.ts`) reads a `Response` from Deno's state: the same
 * status, fields and body as its public members say, for every kind of body a fetch app returns;
 * complete bodies come whole (no stream), streams stay streams (with a length when known).
 */

import assert from "assert";
import {
  fastResponsesAvailable,
  publicParts,
  type ResponseParts,
  responseParts,
} from "../../src/app/response_parts.ts";

/** Each kind of response, made anew per call (reading one consumes it). */
const MAKERS: Record<string, () => Response> = {
  "Response.json": () => Response.json({ a: "é", b: [1, 2] }),
  "Response.json with status and fields": () =>
    Response.json({ a: 1 }, { status: 201, headers: { "x-a": "1", "Set-Cookie": "a=1" } }),
  "text, no init": () => new Response("hello"),
  "text, content type only": () => new Response("hi", { headers: { "content-type": "text/html" } }),
  "text, Headers object": () => new Response("hi", { headers: new Headers({ "X-B": "2", "x-c": "3" }) }),
  "text, repeated fields": () =>
    new Response("x", {
      headers: [["set-cookie", "a=1"], ["Set-Cookie", "b=2"], ["x-d", "1"], ["x-d", "2"]],
    }),
  "bytes": () => new Response(new Uint8Array([0, 1, 2, 255])),
  "bytes, 404": () => new Response(new Uint8Array([1]), { status: 404, statusText: "Gone Fishing" }),
  "ArrayBuffer": () => new Response(new Uint8Array([5, 6]).buffer),
  "URLSearchParams": () => new Response(new URLSearchParams({ q: "a b" })),
  "Blob": () => new Response(new Blob(["blob body"], { type: "text/x-blob" })),
  "ReadableStream": () =>
    new Response(
      new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode("st"));
          c.enqueue(new TextEncoder().encode("ream"));
          c.close();
        },
      }),
    ),
  "null body, 204": () => new Response(null, { status: 204 }),
  "null body, headers": () => new Response(null, { headers: { "x-n": "1" } }),
  "redirect": () => Response.redirect("http://app.test/next", 307),
  "headers changed after": () => {
    const r = Response.json({ a: 1 });
    r.headers.set("x-later", "1");
    return r;
  },
};

/** Fields in `Headers` order (sorted, lower-case, repeats joined but set-cookie): how two lists compare. */
function normal(fields: ResponseParts["headers"]): Array<[string, string]> {
  const h = new Headers();
  for (const [n, v] of fields) h.append(n, v);
  return [...h];
}

/** The body of parts as bytes: complete or read from its stream. */
async function bodyOf(p: ResponseParts): Promise<number[]> {
  if (p.body !== null) return [...(typeof p.body === "string" ? new TextEncoder().encode(p.body) : p.body)];
  if (p.stream === null) return [];
  return [...new Uint8Array(await new Response(p.stream).arrayBuffer())];
}

Deno.test("responseParts: this Deno's Response state is the shape ferry reads", () => {
  // Else every body is read through a stream: correct, slower.
  assert.equal(fastResponsesAvailable, true);
});

for (const [name, make] of Object.entries(MAKERS)) {
  Deno.test(`responseParts: ${name}: the status, fields and body the public members give`, async () => {
    const ours = responseParts(make());
    const theirs = publicParts(make());
    assert.equal(ours.status, theirs.status);
    assert.deepEqual(normal(ours.headers), normal(theirs.headers));
    assert.deepEqual(await bodyOf(ours), await bodyOf(theirs));
    for (const [n] of ours.headers) assert.equal(n, n.toLowerCase(), `${name}: ${n} is lower case`);
  });
}

Deno.test("responseParts: complete bodies come whole, streams as streams with their length when known", () => {
  const kind = (r: Response) => {
    const p = responseParts(r);
    return p.body !== null ? typeof p.body : p.stream !== null ? `stream ${p.length}` : "none";
  };
  assert.equal(kind(MAKERS["Response.json"]()), "string");
  assert.equal(kind(MAKERS["text, no init"]()), "string");
  assert.equal(kind(MAKERS["text, Headers object"]()), "string");
  assert.equal(kind(MAKERS["bytes"]()), "object");
  assert.equal(kind(MAKERS["URLSearchParams"]()), "string");
  assert.equal(kind(MAKERS["Blob"]()), "stream 9");
  assert.equal(kind(MAKERS["ReadableStream"]()), "stream -1");
  assert.equal(kind(MAKERS["null body, 204"]()), "none");
});

Deno.test("responseParts: a FormData body is a stream of known length, with its multipart type", async () => {
  const f = new FormData();
  f.set("k", "v");
  const p = responseParts(new Response(f));
  assert.equal(p.body, null);
  const type = p.headers.find(([n]) => n === "content-type")?.[1] ?? "";
  assert.match(type, /^multipart\/form-data; boundary=/);
  const text = await new Response(p.stream).text();
  assert.equal(new TextEncoder().encode(text).length, p.length);
  assert.match(text, /name="k"\r\n\r\nv\r\n/);
});

Deno.test("responseParts: a body the app already read is left to the public members (and fails there)", async () => {
  const r = new Response("once");
  await r.text();
  const p = responseParts(r);
  assert.equal(p.body, null);
  assert.ok(p.stream !== null);
  await assert.rejects(async () => await new Response(p.stream).text(), TypeError);
});

Deno.test("responseParts: a Response.json's fields are one shared array per content type", () => {
  // The writer's memo of encoded fields knows a pair by identity: a shared one is encoded once.
  assert.equal(responseParts(Response.json(1)).headers, responseParts(Response.json(2)).headers);
});

Deno.test("responseParts: a Response subclass is read through its own members", async () => {
  class Teapot extends Response {
    override get status(): number {
      return 418;
    }
  }
  const p = responseParts(new Teapot("short and stout"));
  assert.equal(p.status, 418);
  assert.equal(await new Response(p.stream).text(), "short and stout");
});
