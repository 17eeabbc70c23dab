/**
 * The exchange policy, written once for every protocol (HTTP/1.1, HTTP/2, the in-memory harness;
 * HTTP/3 next): the request id, the requests no mount sees, how a handler's failure is answered
 * and logged, and a response a handler left unanswered. A protocol keeps its own transport (how
 * the head and body go out, when its connection closes) and asks this module what to answer; the
 * answers are the same bytes on every protocol, and `"handler failed"` is logged only here.
 *
 * @module
 */

import type { ConnectionContext } from "./connection_context.ts";
import { sendError } from "./error_page.ts";
import { Refusal } from "./refusal.ts";
import type { ServerRequest } from "./request.ts";
import { SERVER_ALLOW, type SpecialHead, specialRefusal } from "./special.ts";
import { STATUS } from "./status.ts";
import type { Handler } from "./dispatch.ts";
import type { ResponseWriter } from "./writer.ts";
import { errorText, isConnectionError } from "../net/peer_errors.ts";
import { bump } from "../stats.ts";

/** An incoming X-Request-Id that is kept (anything else is replaced by ferry's own). */
export const REQUEST_ID: RegExp = /^[A-Za-z0-9._:@\/+=-]{1,128}$/;

/**
 * The request id: a well-formed incoming `X-Request-Id`, else the server's next one.
 *
 * @example
 * ```ts
 * import { requestIdFor } from "./exchange.ts";
 * console.log(requestIdFor("abc-1", () => "f1"), requestIdFor("bad id", () => "f2")); // "abc-1" "f2"
 * ```
 */
export function requestIdFor(incoming: string | undefined, next: () => string): string {
  return incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : next();
}

/** What the policy needs of the server: its counters, its log and its Retry-After. */
export type ExchangeServer = Pick<ConnectionContext, "stats" | "log" | "retryAfter">;

/** One exchange as the policy sees it: the request, its writer, its mount, and the server. */
export interface ExchangeScope {
  /** The server. */
  readonly ctx: ExchangeServer;
  /** The request (its id, its `Accept`). */
  readonly req: ServerRequest;
  /** The response writer. */
  readonly res: ResponseWriter;
  /** The mount's name, for the log. */
  readonly mount: string;
  /**
   * Answers with an error page (`Connection: close` where the protocol has it); by default
   * through {@linkcode ExchangeScope.res}.
   */
  sendError?(status: number, message: string, headers?: Array<[string, string]>): Promise<void>;
  /**
   * Told of a handler's {@linkcode Refusal} before it is answered (HTTP/1.1 closes after a body's
   * framing failed, lingering).
   */
  refusing?(refusal: Refusal): void;
}

/** How a handler's failure ended: see {@linkcode handlerFailed}. */
export type FailureOutcome = "gone" | "refused" | "failed" | "truncated";

/** Sends a small error page through `scope` (its own `sendError`, else its writer). */
function answer(scope: ExchangeScope, status: number, message: string, headers?: Array<[string, string]>) {
  if (scope.sendError !== undefined) return scope.sendError(status, message, headers);
  return sendError(scope.res, scope.req.headers.get("accept"), status, message, headers);
}

/**
 * A special request (see `special.ts`) answered: `OPTIONS *` with the server's `Allow`, else its
 * refusal counted and answered (with `Retry-After` while draining). Returns the refusal, if any,
 * so that the protocol can close what it must.
 */
export async function answerSpecial(
  scope: ExchangeScope,
  head: SpecialHead,
  draining: boolean,
  limit: number,
  refusing?: () => void,
): Promise<Refusal | undefined> {
  const refusal = specialRefusal(head, draining, limit);
  if (refusal === undefined) {
    // OPTIONS * (RFC 9110 §9.3.7): the server's own capabilities.
    await scope.res.send(STATUS.NoContent, [["Allow", SERVER_ALLOW]]);
    return undefined;
  }
  const stats = scope.ctx.stats;
  if (refusal.code === "draining") stats.drainRejections++;
  else bump(stats.rejections, refusal.code);
  refusing?.();
  const headers: Array<[string, string]> = refusal.retry ? [["Retry-After", scope.ctx.retryAfter()]] : [];
  await answer(scope, refusal.status, refusal.message, headers);
  return new Refusal(refusal.status, refusal.message);
}

/**
 * Turns a handler's failure into its answer, the same on every protocol:
 * - the peer went away (`gone(e)`, a connection error): the response is aborted — `"gone"`;
 * - a {@linkcode Refusal} (a module's, or a body's framing or size): its status and message
 *   while the head is unsent, counted by its reason code when it has one (unless `counted`),
 *   else the response cut off — `"refused"`;
 * - anything else is a bug: counted, logged once as `"handler failed"` with the stack, answered
 *   500 with a generic body — `"failed"` — or, once the head is out, cut off so the client sees
 *   a truncated response rather than a complete-looking wrong one — `"truncated"`.
 */
export async function handlerFailed(
  scope: ExchangeScope,
  e: unknown,
  gone: (e: unknown) => boolean = isConnectionError,
  counted = false,
): Promise<FailureOutcome> {
  const { ctx, res } = scope;
  if (gone(e)) {
    res.abort();
    return "gone";
  }
  if (e instanceof Refusal) {
    const code = (e as { code?: string }).code;
    if (code !== undefined && !counted) bump(ctx.stats.rejections, code);
    scope.refusing?.(e);
    if (!res.headersSent && code !== "body_incomplete") {
      await answer(scope, e.status, e.message).catch((err) => {
        if (!gone(err)) throw err;
        res.abort();
      });
    } else res.abort();
    return "refused";
  }
  ctx.stats.handlerErrors++;
  ctx.log.error("handler failed", { id: scope.req.id, mount: scope.mount, error: errorText(e) });
  if (res.headersSent) {
    res.abort();
    return "truncated";
  }
  await internalError(scope).catch((err) => {
    if (!gone(err)) throw err;
    res.abort();
  });
  return "failed";
}

/** A generic 500 (the message stays in the log). */
export function internalError(scope: ExchangeScope): Promise<void> {
  return answer(scope, STATUS.InternalServerError, "Internal Server Error");
}

/**
 * Finishes a response the handler left open: one whose head is unsent is a bug (logged, 500),
 * one whose body is open is ended. Nothing when it is finished.
 */
export async function finishOpen(scope: ExchangeScope): Promise<void> {
  const res = scope.res;
  if (res.finished) return;
  if (!res.headersSent) {
    scope.ctx.log.error("handler returned without responding", { id: scope.req.id, mount: scope.mount });
    await internalError(scope);
  } else {
    await res.end();
  }
}

/**
 * Runs `handler` for the exchange of `scope` to its end: the handler, then its failure mapped
 * ({@linkcode handlerFailed}), then an open response finished ({@linkcode finishOpen}). The
 * harness runs this; the protocols run the same steps with their fast paths.
 *
 * @example
 * ```ts ignore
 * const outcome = await runExchange({ ctx, req, res, mount: "app" }, handler);
 * ```
 */
export async function runExchange(
  scope: ExchangeScope,
  handler: Handler,
  gone: (e: unknown) => boolean = isConnectionError,
): Promise<FailureOutcome | undefined> {
  let outcome: FailureOutcome | undefined;
  try {
    await handler(scope.req, scope.res);
  } catch (e) {
    outcome = await handlerFailed(scope, e, gone);
  }
  if (outcome === undefined || outcome === "failed" || outcome === "refused") await finishOpen(scope);
  return outcome;
}
