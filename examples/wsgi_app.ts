/**
 * A complete WSGI-style app for ferry: `deno task start --app examples/wsgi_app.ts`.
 *
 * - `GET /`: a greeting with the path and query the app saw;
 * - `GET /count`: a streamed response, one line at a time (an async generator);
 * - `POST /upper`: the request body, upper-cased (read from `wsgi.input` as it streams).
 *
 * @module
 */

import type { App } from "../src/mod.ts";

async function* count(to: number): AsyncGenerator<string> {
  try {
    for (let i = 1; i <= to; i++) {
      yield `${i}\n`;
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    // Runs when the response ends, and also when the client goes away early (WSGI's close()).
    console.error("count finished");
  }
}

const app: App = async (environ, startResponse) => {
  const path = environ.PATH_INFO;
  if (path === "/count") {
    startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
    return count(10);
  }
  if (path === "/upper" && environ.REQUEST_METHOD === "POST") {
    let text = "";
    const decoder = new TextDecoder();
    for await (const chunk of environ["wsgi.input"]) text += decoder.decode(chunk, { stream: true });
    startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
    return [text.toUpperCase()];
  }
  if (path === "/") {
    startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
    return [`Hello from a WSGI-style app: path ${path}, query "${environ.QUERY_STRING}"\n`];
  }
  startResponse("404 Not Found", [["Content-Type", "text/plain; charset=utf-8"]]);
  return ["Not Found\n"];
};

export default app;
