/**
 * The `Request` a fetch app receives (`src/app/lazy_request.ts`) against a plain `new Request` of
 * the same URL, method, fields and body, in the manner of WPT's `request-*` tests: every member of
 * `Request.prototype` read before the body is, then the body read by each of the ways the standard
 * offers (and Deno's `textStream`), then what is left (`bodyUsed`, a second read, `clone()`), for
 * GET, HEAD, text, JSON, URL-encoded, multipart and chunked requests. Both must say the same.
 */

import assert from "assert";
import { type HarnessRequest, harnessRequest } from "../../src/http/harness.ts";
import { lazyRequest, lazyRequestsAvailable, serverRequestOf } from "../../src/app/lazy_request.ts";

/** The getters of `Request.prototype` (`body`, `headers` and `signal` are summarised). */
const GETTERS = Object.getOwnPropertyNames(Request.prototype).filter((n) =>
  typeof Object.getOwnPropertyDescriptor(Request.prototype, n)?.get === "function"
);

/** What a request shows before its body is read: every getter, and how it presents itself. */
function members(r: Request): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of GETTERS) {
    const v = (r as unknown as Record<string, unknown>)[name];
    if (name === "headers") out.headers = [...(v as Headers)];
    else if (name === "body") {
      out.body = v === null ? null : v instanceof ReadableStream ? "stream" : typeof v;
    } else if (name === "signal") {
      out.signal = v instanceof AbortSignal ? (v as AbortSignal).aborted : "not a signal";
    } else out[name] = v;
  }
  out.instanceofRequest = r instanceof Request;
  out.isRequestClass = r.constructor === Request;
  out.tag = Object.prototype.toString.call(r);
  out.inspect = Deno.inspect(r);
  out.contentType = r.headers.get("content-type");
  return out;
}

/** A way of reading the body, and what it gave (as JSON-able data). */
const READS: Record<string, (r: Request) => Promise<unknown>> = {
  text: (r) => r.text(),
  json: (r) => r.json().catch((e) => `rejects ${e.name}`),
  arrayBuffer: async (r) => [...new Uint8Array(await r.arrayBuffer())],
  bytes: async (r) => [...await r.bytes()],
  blob: async (r) => {
    const b = await r.blob();
    return [b.type, b.size, await b.text()];
  },
  formData: (r) =>
    r.formData().then(
      async (f) => {
        const out: unknown[] = [];
        for (const [k, v] of f) out.push([k, typeof v === "string" ? v : [v.name, v.type, await v.text()]]);
        return out;
      },
      (e) => `rejects ${e.name}`,
    ),
  stream: async (r) => {
    if (r.body === null) return null;
    const parts: number[] = [];
    for await (const chunk of r.body) parts.push(...chunk);
    return parts;
  },
  textStream: async (r) => {
    const ts = (r as unknown as { textStream?: () => ReadableStream<string> }).textStream;
    if (typeof ts !== "function") return "absent";
    let out = "";
    try {
      for await (const s of ts.call(r)) out += s;
    } catch (e) {
      return `throws ${(e as Error).name}`;
    }
    return out;
  },
  "clone, both read": async (r) => {
    const c = r.clone();
    return [members(c).url, await c.text(), r.bodyUsed, await r.text(), c.bodyUsed];
  },
  "new Request(request)": async (r) => {
    try {
      const n = new Request(r);
      return [n.url, n.method, [...n.headers], await n.text(), r.bodyUsed];
    } catch (e) {
      return `throws ${(e as Error).name}`;
    }
  },
  "new Request(request, {headers})": async (r) => {
    try {
      const n = new Request(r, { headers: { "x-new": "1" } });
      return [n.url, [...n.headers], await n.text()];
    } catch (e) {
      return `throws ${(e as Error).name}`;
    }
  },
};

/** What a request says after `read`: the result, then `bodyUsed`, a second read, a clone. */
async function afterRead(r: Request, read: string): Promise<unknown> {
  const result = await READS[read](r);
  const second = await r.text().then((t) => `text ${JSON.stringify(t)}`, (e) => `rejects ${e.name}`);
  let clone: string;
  try {
    clone = `clone ${await r.clone().text()}`;
  } catch (e) {
    clone = `clone throws ${(e as Error).name}`;
  }
  return { result, bodyUsed: r.bodyUsed, second, clone };
}

/** The requests compared: target, harness fields, and the plain `Request`'s init. */
interface Case {
  name: string;
  target: string;
  init: HarnessRequest;
}

const MULTIPART = '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n' +
  '--XyZ\r\nContent-Disposition: form-data; name="f"; filename="f.txt"\r\nContent-Type: text/plain\r\n\r\n' +
  "file body\r\n--XyZ--\r\n";

const CASES: Case[] = [
  {
    name: "GET with a query and repeated fields",
    target: "/a/b?c=1&d=%20",
    init: { headers: [["host", "app.test:8080"], ["accept", "text/html"], ["x-r", "1"], ["x-r", "2"]] },
  },
  { name: "HEAD", target: "/h", init: { method: "HEAD", headers: { host: "app.test" } } },
  {
    name: "POST text",
    target: "/t",
    init: { method: "POST", headers: { host: "app.test", "content-type": "text/plain" }, body: "héllo" },
  },
  {
    name: "post (lower case) JSON",
    target: "/j",
    init: {
      method: "post",
      headers: { host: "app.test", "content-type": "application/json" },
      body: '{"a":[1,2]}',
    },
  },
  {
    name: "PUT URL-encoded",
    target: "/u",
    init: {
      method: "PUT",
      headers: { host: "app.test", "content-type": "application/x-www-form-urlencoded" },
      body: "a=1&b=%C3%A9&c",
    },
  },
  {
    name: "POST multipart",
    target: "/m",
    init: {
      method: "POST",
      headers: { host: "app.test", "content-type": "multipart/form-data; boundary=XyZ" },
      body: MULTIPART,
    },
  },
  {
    name: "PATCH chunked (no length)",
    target: "/c",
    init: { method: "PATCH", headers: { host: "app.test" }, body: "chunked body", chunked: true },
  },
];

/** The plain `Request` of a case: the URL ferry serves it at, the same method, fields and body. */
function plain(c: Case): Request {
  const req = harnessRequest(c.target, c.init);
  const init: RequestInit & { duplex?: "half" } = {
    method: c.init.method,
    headers: req.headers.names.map((n, i) => [n, req.headers.values[i]]),
  };
  if (c.init.body !== undefined) {
    init.body = new Blob([c.init.body as string]).stream();
    init.duplex = "half";
  }
  return new Request(`http://${req.host}${c.target}`, init);
}

Deno.test("lazy Request: this Deno's Request internals are the shape ferry builds on", () => {
  // Else every request falls back to the public constructor: correct, four times slower.
  assert.equal(lazyRequestsAvailable, true);
});

for (const c of CASES) {
  Deno.test(`lazy Request: ${c.name}: every member before the body is read, as a plain Request`, () => {
    assert.deepEqual(members(lazyRequest(harnessRequest(c.target, c.init))), members(plain(c)));
  });
  Deno.test(`lazy Request: ${c.name}: each way of reading the body, and what is left after`, async () => {
    for (const read of Object.keys(READS)) {
      const ours = await afterRead(lazyRequest(harnessRequest(c.target, c.init)), read);
      const theirs = await afterRead(plain(c), read);
      assert.deepEqual(ours, theirs, `${c.name}: ${read}`);
    }
  });
}

Deno.test("lazy Request: headers changed by the app are seen by a Request made from it", async () => {
  const r = lazyRequest(harnessRequest("/p", { method: "POST", headers: { host: "app.test" }, body: "b" }));
  r.headers.set("x-added", "yes");
  r.headers.delete("content-length");
  const copy = new Request(r);
  assert.equal(copy.headers.get("x-added"), "yes");
  assert.equal(copy.headers.has("content-length"), false);
  assert.equal(await copy.text(), "b");
});

Deno.test("lazy Request: signal is a real AbortSignal, not aborted while the client is there", () => {
  const r = lazyRequest(harnessRequest("/", { headers: { host: "app.test" } }));
  assert.ok(r.signal instanceof AbortSignal);
  assert.equal(r.signal.aborted, false);
  assert.equal(r.signal, r.signal);
});

Deno.test("lazy Request: the ferry request is found from the Request, not from a clone", () => {
  const req = harnessRequest("/", { headers: { host: "app.test" } });
  const r = lazyRequest(req);
  assert.equal(serverRequestOf(r), req);
  assert.equal(serverRequestOf(r.clone()), undefined);
  assert.equal(serverRequestOf(new Request("http://app.test/")), undefined);
});
