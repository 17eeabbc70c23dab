/**
 * The Python gateway's options (the `--wsgi`, `--asgi`, `--wsgi-*` and `--asgi-*` flags; the
 * worker flags serve both interfaces), declared once in
 * {@linkcode WSGI_OPTIONS}; the types, the defaults, {@linkcode resolveWsgiOptions} and the
 * command line (`src/cli.ts`) come from it. The `MODULE:CALLABLE` rule lives here only.
 *
 * @module
 */

import { resolve } from "path";
import {
  checkValues,
  defaultsOf,
  int,
  oneOf,
  option,
  type OptionTableOf,
  pathList,
  seconds,
  size,
  text,
} from "../../option_spec.ts";

/** `MODULE:CALLABLE` or `MODULE:factory(...)`: a dotted module name, a colon, then the callable. */
const APP_SPEC = /^[A-Za-z_][\w.]*:.+$/;

/** Why `--wsgi`'s value is not an app spec; `undefined` when it is. */
function appSpecProblem(v: string): string | undefined {
  return APP_SPEC.test(v) ? undefined : "--wsgi must look like MODULE:CALLABLE (mysite.wsgi:application)";
}

/** Why `--asgi`'s value is not an app spec; `undefined` when it is (or not given). */
function asgiSpecProblem(v: string): string | undefined {
  return v === "" || APP_SPEC.test(v)
    ? undefined
    : "--asgi must look like MODULE:CALLABLE (mysite.asgi:application)";
}

const G = "Apps:";

/** Options of the Python gateway: the `--wsgi-*` flags; each has its entry in {@linkcode WSGI_OPTIONS}. */
export interface WsgiGatewayOptions {
  /** `MODULE:CALLABLE` or `MODULE:factory(...)` (`--wsgi`, or `--asgi` with `interface` "asgi"). */
  app: string;
  /**
   * `--asgi MODULE:CALLABLE`: an ASGI app; when given it becomes `app` and `interface` "asgi".
   * @default {""}
   */
  asgi?: string;
  /**
   * Which interface the app speaks: PEP 3333 WSGI (`--wsgi`) or ASGI 3.0 (`--asgi`).
   * @default {"wsgi"}
   */
  interface?: "wsgi" | "asgi";
  /**
   * Threads per WSGI worker (`--wsgi-threads`): each serves a request, so a worker serves this
   * many at once (gunicorn's gthread); `wsgi.multithread` is true above 1.
   * @default {1}
   */
  threads?: number;
  /**
   * Requests one ASGI worker serves at once at most (`--asgi-concurrency`); more wait in the
   * queue (`--wsgi-max-queue`).
   * @default {1000}
   */
  concurrency?: number;
  /**
   * The ASGI lifespan protocol (`--asgi-lifespan`): `auto` runs it and serves an app that raises
   * on it anyway, `on` requires it, `off` never runs it.
   * @default {"auto"}
   */
  lifespan?: "auto" | "on" | "off";
  /**
   * The interpreter (`--wsgi-python`).
   * @default {"python3"}
   */
  python?: string;
  /**
   * Working directory of the workers, first on `sys.path` (`--wsgi-chdir`).
   * @default {"."}
   */
  chdir?: string;
  /**
   * More directories for `sys.path` (`--wsgi-pythonpath`, comma- or colon-separated on the CLI).
   * @default {[]}
   */
  pythonpath?: string[];
  /**
   * Seconds an ASGI app's lifespan startup may take before the worker gives up with "ASGI lifespan
   * startup did not complete within …" and ferry does not start (`--asgi-startup-timeout`). 0: no
   * limit.
   * @default {60}
   */
  startupTimeout?: number;
  /**
   * Worker processes (`--wsgi-workers`). 0: the number of CPUs, at least 2.
   * @default {0}
   */
  workers?: number;
  /**
   * Seconds a request may make no progress (`--wsgi-timeout`): the wait for its response head,
   * and each silence between two body pieces; a stream that keeps sending is never cut. Past it:
   * 504 before the head, a cut response after it; the worker's stacks go to the error log (a WSGI
   * worker is replaced, an ASGI task cancelled). The clock stands still while ferry waits on the
   * client. 0: no limit.
   * @default {30}
   */
  timeout?: number;
  /**
   * Recycle a worker after this many requests (`--wsgi-max-requests`). 0: never.
   * @default {0}
   */
  maxRequests?: number;
  /**
   * Add up to this many (at random, per worker) to `maxRequests`, so workers do not all recycle at
   * once (`--wsgi-max-requests-jitter`).
   * @default {0}
   */
  maxRequestsJitter?: number;
  /**
   * Requests waiting for a free worker at most; one more gets 503 (`--wsgi-max-queue`).
   * @default {100}
   */
  maxQueue?: number;
  /**
   * Seconds a request may wait for a free worker before 503 (`--wsgi-queue-timeout`). 0: no limit.
   * @default {10}
   */
  queueTimeout?: number;
  /**
   * Seconds a worker gets to exit after SIGTERM before SIGKILL, at shutdown and on reload
   * (`--wsgi-graceful-timeout`).
   * @default {30}
   */
  gracefulTimeout?: number;
  /**
   * Recycle a worker whose resident memory passes this many bytes, after its current request
   * (`--wsgi-max-rss`). 0: no bound.
   * @default {0}
   */
  maxRss?: number;
  /**
   * Largest response head (status line and header fields) an app may send
   * (`--wsgi-max-response-head`); a larger one is answered 502 and logged with the request id.
   * @default {65536}
   */
  maxResponseHead?: number;
  /**
   * Seconds a new worker gets to import the app.
   * @default {60}
   */
  startTimeout?: number;
  /**
   * Requests sent to one worker at once when every worker is busy (`--wsgi-pipeline`): the
   * worker still runs them one at a time, but the next one is already in its socket when it
   * finishes, which saves a round of process switches. A request the worker never began is
   * handed to another worker if this one dies. The price: a request sent behind a slow one waits
   * for it even if another worker frees up meanwhile, so requests are pipelined only while the
   * app answers in under `PIPELINE_FAST_MS` (`pool.ts`) on average. 1: one request at a time.
   * @default {8}
   */
  pipeline?: number;
}

/** The options with every default filled in. */
export type ResolvedWsgiOptions = Required<WsgiGatewayOptions>;

/**
 * The gateway's options. To add one: a field in {@linkcode WsgiGatewayOptions} and its entry
 * here (see `SERVER_OPTIONS` in `src/options.ts` for what each part of an entry means).
 */
export const WSGI_OPTIONS: OptionTableOf<ResolvedWsgiOptions> = {
  app: option({
    flag: "wsgi",
    rule: text("<module:callable>", appSpecProblem),
    default: "",
    group: G,
    help: "serve a Python WSGI app (Flask, Django...): MODULE:CALLABLE or MODULE:factory()",
  }),
  asgi: option({
    flag: "asgi",
    rule: text("<module:callable>", asgiSpecProblem),
    default: "",
    group: G,
    help:
      "serve a Python ASGI 3 app (FastAPI, Starlette, Django asgi...): MODULE:CALLABLE or MODULE:factory()",
  }),
  interface: option({
    flag: undefined,
    rule: oneOf(["wsgi", "asgi"]),
    default: "wsgi" as "wsgi" | "asgi",
    group: G,
    help: "the interface the Python app speaks (set by --wsgi or --asgi)",
  }),
  lifespan: option({
    flag: "asgi-lifespan",
    rule: oneOf(["auto", "on", "off"]),
    default: "auto" as "auto" | "on" | "off",
    group: G,
    help: "ASGI lifespan: auto (run it if the app supports it), on (required), off",
  }),
  startupTimeout: option({
    flag: "asgi-startup-timeout",
    rule: seconds,
    default: 60,
    group: G,
    help: "seconds an ASGI app's lifespan startup may take before ferry gives up starting (0: no limit)",
  }),
  concurrency: option({
    flag: "asgi-concurrency",
    rule: int(1, 100_000),
    default: 1000,
    group: G,
    help: "requests one ASGI worker serves at once at most (more wait in the queue)",
  }),
  threads: option({
    flag: "wsgi-threads",
    rule: int(1, 1024),
    default: 1,
    group: G,
    help: "threads per WSGI worker, each serving a request at once (like gunicorn's gthread)",
  }),
  python: option({
    flag: "wsgi-python",
    rule: text("<path>"),
    default: "python3",
    group: G,
    help: "the Python interpreter for --wsgi or --asgi",
  }),
  chdir: option({
    flag: "wsgi-chdir",
    rule: text("<dir>"),
    default: ".",
    group: G,
    help: "working directory of the Python workers, first on sys.path",
  }),
  pythonpath: option({
    flag: "wsgi-pythonpath",
    rule: pathList,
    default: [] as string[],
    group: G,
    help: "more directories for sys.path, comma-separated",
  }),
  workers: option({
    flag: "wsgi-workers",
    rule: int(0, 1024),
    default: 0,
    group: G,
    help: "Python worker processes (0: CPUs, at least 2)",
  }),
  timeout: option({
    flag: "wsgi-timeout",
    rule: seconds,
    default: 30,
    group: G,
    help:
      "seconds a Python request may go without progress (its response head, then each body piece) before 504 or a cut response (0: no limit)",
  }),
  maxRequests: option({
    flag: "wsgi-max-requests",
    rule: int(0),
    default: 0,
    group: G,
    help: "recycle a Python worker after N requests (0: never)",
  }),
  maxRequestsJitter: option({
    flag: "wsgi-max-requests-jitter",
    rule: int(0),
    default: 0,
    group: G,
    help: "up to N more requests before recycling, at random",
  }),
  maxQueue: option({
    flag: "wsgi-max-queue",
    rule: int(0),
    default: 100,
    group: G,
    help: "requests waiting for a Python worker at most (then 503)",
  }),
  queueTimeout: option({
    flag: "wsgi-queue-timeout",
    rule: seconds,
    default: 10,
    group: G,
    help: "seconds a request waits for a Python worker (then 503)",
  }),
  gracefulTimeout: option({
    flag: "wsgi-graceful-timeout",
    rule: seconds,
    default: 30,
    group: G,
    help: "seconds a Python worker gets to exit before SIGKILL",
  }),
  pipeline: option({
    flag: "wsgi-pipeline",
    rule: int(1, 16),
    default: 8,
    group: G,
    help: "requests sent to a busy Python worker at once, while the app is fast (1: one at a time)",
  }),
  maxRss: option({
    flag: "wsgi-max-rss",
    rule: size(0),
    default: 0,
    group: G,
    help: "recycle a Python worker whose memory passes SIZE, like 512M (0: no bound)",
  }),
  maxResponseHead: option({
    flag: "wsgi-max-response-head",
    rule: size(1024),
    default: 64 * 1024,
    group: G,
    help: "largest response head a Python app may send, like 256K; a larger one is answered 502",
  }),
  startTimeout: option({
    flag: undefined,
    rule: seconds,
    default: 60,
    group: G,
    help: "seconds a new Python worker gets to import the app",
  }),
};

/** The command-line flag of a gateway option, for messages. */
const flagOf = (name: string) => `--${WSGI_OPTIONS[name as keyof typeof WSGI_OPTIONS].flag ?? name}`;

/**
 * Fills in defaults and checks values; throws `RangeError` naming the flag. `chdir` and
 * `pythonpath` become absolute (so `sys.path` means the same from the worker's directory) and
 * 0 workers becomes the number of CPUs (at least 2).
 *
 * @example
 * ```ts ignore
 * const o = resolveWsgiOptions({ app: "app:app" });
 * ```
 */
export function resolveWsgiOptions(o: WsgiGatewayOptions): ResolvedWsgiOptions {
  const r = defaultsOf(WSGI_OPTIONS);
  for (const [k, v] of Object.entries(o)) {
    if (v !== undefined) (r as Record<string, unknown>)[k] = v;
  }
  if (r.asgi !== "") {
    r.app = r.asgi;
    r.interface = "asgi";
  }
  checkValues(WSGI_OPTIONS, r, flagOf);
  if (r.interface === "asgi" && r.threads > 1) {
    throw new RangeError("--wsgi-threads is for --wsgi apps: an --asgi worker serves many requests at once");
  }
  r.chdir = resolve(r.chdir);
  r.pythonpath = r.pythonpath.map((p) => resolve(p));
  let isDir = false;
  try {
    isDir = Deno.statSync(r.chdir).isDirectory;
  } catch {
    // missing
  }
  if (!isDir) throw new RangeError(`--wsgi-chdir ${r.chdir} is not a directory`);
  if (r.workers === 0) r.workers = Math.max(2, navigator.hardwareConcurrency);
  return r;
}
