/**
 * The http-01 responder (RFC 8555 §8.3): `GET /.well-known/acme-challenge/TOKEN` on the plain
 * listener answers the key authorization that the ordering instance stored for TOKEN in
 * `--acme-dir`, whatever Host and port the request names; an unknown token gets 404.
 *
 * @module
 */

import type { Handler } from "../http/dispatch.ts";
import { TEXT_PLAIN } from "../http/error_page.ts";
import { STATUS } from "../http/status.ts";
import type { AcmeStorage } from "./storage.ts";

const PREFIX = "/.well-known/acme-challenge/";

/**
 * The handler for `/.well-known/acme-challenge/`.
 *
 * @example
 * ```ts ignore
 * const server = await serve(options, { acmeChallenge: acmeChallengeHandler(new AcmeStorage(dir)) });
 * ```
 */
export function acmeChallengeHandler(storage: AcmeStorage): Handler {
  return async function acmeChallenge(req, res): Promise<void> {
    const token = req.path.slice(PREFIX.length);
    const answer = req.method === "GET" || req.method === "HEAD"
      ? await storage.readChallenge(token)
      : undefined;
    if (answer === undefined) {
      await res.send(STATUS.NotFound, [TEXT_PLAIN], "Not Found: no such ACME challenge token\n");
      return;
    }
    await res.send(STATUS.OK, [["Content-Type", "application/octet-stream"]], answer);
  };
}
