/**
 * ferry's built-in example app (WSGI-style: `/hello` answers `Hello, World!`) as an `--app` file,
 * for `deno task bench`: beside a `--root` of its own the bench's ferry would otherwise answer
 * 404 to every path outside the static prefix (the example app runs only on a bare start).
 *
 * @module
 */

export { exampleApp as default } from "../../src/app/example_app.ts";
