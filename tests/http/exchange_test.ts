/**
 * One exchange for every protocol (`src/http/exchange.ts`): the same handler failures and special
 * requests over HTTP/1.1 and HTTP/2 (h2c, prior knowledge, on one in-process listener) give the
 * same status, byte-equal bodies, and the same error-log line; the request id rule is the same.
 */

import assert from "assert";
import { exchange as h1 } from "../helpers/client.ts";
import { field, request as h2 } from "../http2/frame_kit.ts";
import { startServer } from "../helpers/server.ts";
import { Refusal } from "../../src/http/refusal.ts";
import type { Handler } from "../../src/http/dispatch.ts";
import { REQUEST_ID, requestIdFor } from "../../src/http/exchange.ts";

/** What each protocol answered, and what the error log gained meanwhile. */
interface Seen {
  status: number;
  body: string;
  cutOff: boolean;
  logged: string[];
}

const handlers: Record<string, Handler> = {
  "/boom": () => Promise.reject(new Error("boom at the handler")),
  "/refused": () => Promise.reject(new Refusal(409, "a directory has that name")),
  "/silent": () => {},
  "/late": async (_req, res) => {
    res.writeHead(200, [["Content-Type", "text/plain"]]);
    await res.write("part");
    await res.flush();
    throw new Error("late failure");
  },
  "/ok": (_req, res) => res.send(200, [], "fine"),
};

const app: Handler = (req, res) => (handlers[req.path] ?? handlers["/ok"])(req, res);

/** The error-log lines that name the outcome (their message, mount and error's first line; ids differ). */
function outcomeLines(text: string): string[] {
  return text.split("\n").filter((l) => /handler failed|without responding/.test(l)).map((l) =>
    [
      /handler failed|handler returned without responding/.exec(l)?.[0],
      /mount[=:"]+(\w+)/.exec(l)?.[1],
      /Error: [^\\\n"]+/.exec(l)?.[0],
    ]
      .join(" | ")
  );
}

const ROWS: Array<
  { name: string; method: string; path: string; extra?: Array<[string, string]>; body?: string }
> = [
  {
    name: "a declared body over the limit",
    method: "POST",
    path: "/ok",
    extra: [["content-length", "2000"]],
    body: "x".repeat(2000),
  },
  { name: "a handler that throws", method: "GET", path: "/boom" },
  { name: "a handler's refusal", method: "GET", path: "/refused" },
  { name: "a handler that answers nothing", method: "GET", path: "/silent" },
  { name: "a handler that throws after its head", method: "GET", path: "/late" },
  { name: "OPTIONS *", method: "OPTIONS", path: "*" },
];

Deno.test("exchange: failures and special requests answer byte-equal and log the same on HTTP/1.1 and HTTP/2", async () => {
  await using s = await startServer({ handler: app, h2c: true, maxBodyBytes: 1000 });
  for (const row of ROWS) {
    const before1 = s.logs.text.length;
    const extra = (row.extra ?? []).map(([n, v]) => `${n}: ${v}\r\n`).join("");
    const r1 = await h1(
      s.port,
      `${row.method} ${row.path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n${row.body ?? ""}`,
      row.method,
    );
    const one: Seen = {
      status: r1.status,
      body: new TextDecoder().decode(r1.body),
      cutOff: r1.chunked && !r1.complete,
      logged: outcomeLines(s.logs.text.slice(before1)),
    };
    const before2 = s.logs.text.length;
    const r2 = await h2(s.port, [
      [":method", row.method],
      [":scheme", "http"],
      [":authority", "t"],
      [":path", row.path],
      ...(row.extra ?? []),
    ], row.body === undefined ? undefined : new TextEncoder().encode(row.body));
    const two: Seen = {
      status: r2.status,
      body: new TextDecoder().decode(r2.body),
      cutOff: r2.reset !== undefined,
      logged: outcomeLines(s.logs.text.slice(before2)),
    };
    assert.deepEqual(two, one, row.name);
    if (row.path === "/boom") assert.equal(one.status, 500, row.name);
    if (row.path === "/refused") assert.equal(one.status, 409, row.name);
    if (row.path === "/late") assert.ok(one.cutOff, row.name);
    if (row.path === "*") assert.equal(field(r2, "allow"), r1.headers.find(([n]) => n === "allow")?.[1]);
  }
});

Deno.test("exchange: the request id rule is one: a well-formed X-Request-Id is kept, anything else replaced", () => {
  let n = 0;
  const next = () => `f${++n}`;
  assert.equal(requestIdFor("trace-1.2:3@x/y+z=", next), "trace-1.2:3@x/y+z=");
  assert.equal(requestIdFor("has space", next), "f1");
  assert.equal(requestIdFor("x".repeat(129), next), "f2");
  assert.equal(requestIdFor(undefined, next), "f3");
  assert.ok(REQUEST_ID.test("a".repeat(128)));
});
