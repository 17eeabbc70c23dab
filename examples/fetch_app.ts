/**
 * A complete fetch-handler app for ferry, in the `deno serve` form:
 * `deno task start --app examples/fetch_app.ts` (and `deno serve examples/fetch_app.ts` runs it
 * unchanged on Deno's own server).
 *
 * - `GET /`: a greeting with the URL the app saw;
 * - `GET /json`: a JSON document;
 * - `POST /echo`: the request body streamed straight back.
 *
 * @module
 */

export default {
  fetch(request: Request): Response {
    const url = new URL(request.url);
    if (url.pathname === "/json") return Response.json({ ok: true, path: url.pathname });
    if (url.pathname === "/echo" && request.method === "POST") {
      return new Response(request.body, {
        headers: { "content-type": request.headers.get("content-type") ?? "" },
      });
    }
    if (url.pathname === "/") return new Response(`Hello from a fetch handler at ${url.href}\n`);
    return new Response("Not Found\n", { status: 404 });
  },
};
