/**
 * Error responses as a person or a program wants them: a small HTML page when the client prefers
 * `text/html` (a browser), plain text otherwise (curl, scripts, APIs). The message says what went
 * wrong; nothing of the server's internals is in it.
 *
 * @module
 */

import Negotiator from "negotiator";
import type { ResponseHeaders, ResponseWriter } from "./writer.ts";
import { STATUS_TEXT as REASON } from "./status.ts";

/** `Content-Type` of ferry's plain-text responses. */
export const TEXT_PLAIN: readonly [string, string] = ["Content-Type", "text/plain; charset=utf-8"];
/** `Content-Type` of ferry's HTML pages. */
export const TEXT_HTML: readonly [string, string] = ["Content-Type", "text/html; charset=utf-8"];

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** Whether an Accept header prefers HTML to plain text (a browser's does; `*\/*` does not). */
export function prefersHtml(accept: string | undefined): boolean {
  if (accept === undefined || !accept.includes("html")) return false;
  return new Negotiator({ headers: { accept } }).mediaType(["text/plain", "text/html"]) === "text/html";
}

/**
 * The page for `status` with `message`, as HTML.
 *
 * @example
 * ```ts
 * import { errorHtml } from "./error_page.ts";
 * console.log(errorHtml(404, "Not Found").includes("<title>404 Not Found</title>")); // true
 * ```
 */
export function errorHtml(status: number, message: string): string {
  const title = `${status} ${REASON[status] ?? ""}`.trim();
  const text = message.trim() === (REASON[status] ?? "") ? "" : `<p>${escape(message.trim())}</p>\n`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${escape(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#222;background:#f6f7f9}
main{max-width:36rem;margin:12vh auto;padding:2rem;background:#fff;border-radius:8px;box-shadow:0 1px 4px #0002}
h1{margin:0 0 .5rem;font-size:1.6rem}p{margin:.5rem 0}footer{margin-top:1.5rem;color:#888;font-size:.85rem}</style>
</head><body><main><h1>${escape(title)}</h1>
${text}<footer>ferry</footer></main></body></html>
`;
}

/**
 * Sends an error response: HTML when `accept` prefers it, else `message` as plain text.
 *
 * @example
 * ```ts ignore
 * await sendError(res, req.headers.get("accept"), 404, "Not Found");
 * ```
 */
export function sendError(
  res: ResponseWriter,
  accept: string | undefined,
  status: number,
  message: string,
  headers: Array<readonly [string, string]> = [],
): Promise<void> {
  if (prefersHtml(accept)) {
    return res.send(
      status,
      [...headers, TEXT_HTML, ["X-Content-Type-Options", "nosniff"]],
      errorHtml(status, message),
    );
  }
  return res.send(status, [...headers, TEXT_PLAIN] as ResponseHeaders, `${message.trimEnd()}\n`);
}
