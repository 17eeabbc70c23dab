/**
 * Where the reverse proxy (issue 37, `src/upstream/`) plugs into the config: its
 * {@linkcode ProxyFactory}, or undefined while it is not built, in which case a `proxy` route is
 * refused with a clear message. To wire it: import the factory from `src/upstream/` here and set
 * `PROXY_FACTORY` to it; nothing else in `src/config/` changes.
 *
 * @module
 */

import type { ProxyFactory } from "../route/action.ts";

/** The reverse proxy's factory; undefined until `src/upstream/` provides one. */
export const PROXY_FACTORY: ProxyFactory | undefined = undefined;
