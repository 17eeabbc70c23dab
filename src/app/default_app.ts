/**
 * The built-in app, served for every path no other mount takes when `--app` is not given.
 *
 * @module
 */

import type { Handler } from "../dispatch.ts";

const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>ferry</title></head>
<body>
<h1>ferry is running</h1>
<p>The sample site is at <a href="/static/index.html">/static/index.html</a>.</p>
<ul>
<li><a href="/hello">/hello</a></li>
<li><a href="/_metrics">/_metrics</a></li>
</ul>
</body>
</html>
`;

/**
 * The example app: `/` a small HTML page, `/hello` a greeting, anything else 404.
 *
 * @example
 * ```ts ignore
 * new Server({ port: 0 }, { app: defaultApp });
 * ```
 */
export const defaultApp: Handler = async function defaultApp(req, res) {
  if (req.method !== "GET" && req.method !== "HEAD") {
    await res.send(
      405,
      [["Allow", "GET, HEAD"], ["Content-Type", "text/plain; charset=utf-8"]],
      "Method Not Allowed\n",
    );
    return;
  }
  if (req.path === "/") {
    await res.send(200, [["Content-Type", "text/html; charset=utf-8"]], PAGE);
  } else if (req.path === "/hello") {
    await res.send(200, [["Content-Type", "text/plain; charset=utf-8"]], "Hello, World!");
  } else {
    await res.send(404, [["Content-Type", "text/plain; charset=utf-8"]], "Not Found\n");
  }
};
