/**
 * The plain fetch app of `deno task bench`'s fetch-app row, served by `ferry --app` and by
 * `deno serve` as the same file: `GET /json` answers a small JSON document, routed on the URL's
 * path as a hand-written app does.
 *
 * @module
 */

export default {
  fetch(request: Request): Response {
    const url = new URL(request.url);
    if (url.pathname === "/json") return Response.json({ message: "Hello, World!" });
    if (url.pathname === "/") return new Response("Hello, World!");
    return new Response("Not Found\n", { status: 404 });
  },
};
