/**
 * The built-in example app (a WSGI-style app), served when `--app` is not given:
 *
 * - `/`: a small HTML page linking to the sample site;
 * - `/hello`: `Hello, World!`;
 * - `/stream`: a chunked response written piece by piece;
 * - `/submit` (POST): echoes the request body;
 * - `/env`: the environ as JSON (request values only, never the process environment).
 *
 * @module
 */

import type { App, Body, Environ } from "./wsgi.ts";

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ferry</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}</style>
</head>
<body>
<h1>ferry is running</h1>
<p>The sample site is at <a href="/static/index.html">/static/index.html</a>.</p>
<ul>
<li><a href="/hello">/hello</a>: a greeting</li>
<li><a href="/stream">/stream</a>: a response written piece by piece</li>
<li><code>POST /submit</code>: echoes what you send</li>
<li><a href="/env">/env</a>: what the app sees of your request</li>
<li><a href="/_metrics">/_metrics</a>: the server's metrics</li>
</ul>
</body>
</html>
`;

const TEXT: [string, string] = ["Content-Type", "text/plain; charset=utf-8"];

async function* pieces(): AsyncGenerator<string> {
  for (let i = 1; i <= 5; i++) {
    yield `piece ${i} of 5\n`;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The environ without its objects (the body stream and the error log). */
function plainEnviron(environ: Environ): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(environ)) {
    if (k !== "wsgi.input" && k !== "wsgi.errors") out[k] = v;
  }
  return out;
}

/**
 * The example app.
 *
 * @example
 * ```ts ignore
 * new Server({}, { app: wsgiHandler(exampleApp, { log }) });
 * ```
 */
export const exampleApp: App = function exampleApp(environ, startResponse): Body | Promise<Body> {
  const method = environ.REQUEST_METHOD;
  switch (environ.PATH_INFO) {
    case "/":
      startResponse("200 OK", [["Content-Type", "text/html; charset=utf-8"]]);
      return [PAGE];
    case "/hello":
      startResponse("200 OK", [TEXT]);
      return ["Hello, World!"];
    case "/stream":
      startResponse("200 OK", [TEXT, ["Cache-Control", "no-store"]]);
      return pieces();
    case "/env":
      startResponse("200 OK", [["Content-Type", "application/json"]]);
      return [JSON.stringify(plainEnviron(environ), null, 2) + "\n"];
    case "/submit": {
      if (method !== "POST") {
        startResponse("405 Method Not Allowed", [TEXT, ["Allow", "POST"]]);
        return ["Method Not Allowed\n"];
      }
      return (async () => {
        const parts: Uint8Array[] = [];
        for await (const chunk of environ["wsgi.input"]) parts.push(chunk);
        startResponse("200 OK", [["Content-Type", environ.CONTENT_TYPE ?? "application/octet-stream"]]);
        return parts;
      })();
    }
    default:
      startResponse("404 Not Found", [TEXT]);
      return ["Not Found\n"];
  }
};
