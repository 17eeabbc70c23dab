/**
 * `ferry` on the command line: flags → options → a running server, until SIGINT or SIGTERM
 * drains it (a second signal closes at once).
 *
 * @example
 * ```sh
 * deno task start --port 9000 --no-https
 * ```
 *
 * @module
 */

import { fileURLToPath as fromFileUrl } from "node:url";
import { CliError, parseCli, VERSION } from "./src/cli.ts";
import { dirname } from "node:path";
import {
  asgiHandler,
  AsgiStartupError,
  createLogger,
  notFound,
  pythonHandler,
  PythonPool,
  resolveWsgiOptions,
  serve,
  Stats,
  type WsgiGatewayOptions,
  WsgiImportError,
} from "./src/mod.ts";
import { loadCertificate } from "./src/tls/cert.ts";
import { AppLoadError } from "./src/app/load.ts";
import { onStopSignals } from "./src/stop_signals.ts";
import { probeNotes, probeProcess } from "./src/process_probe.ts";
import type { Server, ServerParts, TlsMaterial } from "./src/server.ts";
import { type ResolvedOptions, resolveOptions, type ServerOptions } from "./src/options.ts";
import { Isolates } from "./src/isolates.ts";
import { type AcmeConfig, AcmeIssuer } from "./src/acme/issuer.ts";
import { acmeBanner, acmeConfig } from "./src/acme/setup.ts";
import { acmeChallengeHandler } from "./src/acme/challenge.ts";
import { setAcmeStatus } from "./src/acme/metrics.ts";
import { AcmeStorage } from "./src/acme/storage.ts";
import type { Logger } from "./src/log/logger.ts";

/**
 * SIGHUP: loads the certificate and key again (or makes a new self-signed pair if it expired)
 * and hands them to `apply`; on any failure the old certificate stays.
 */
async function reloadCertificate(
  options: ServerOptions,
  tls: { cert: string; key: string; certDir: string },
  apply: (material: TlsMaterial) => Promise<void>,
): Promise<void> {
  if (options.https === false) return;
  try {
    const loaded = await loadCertificate(tls);
    await apply(loaded.material);
    console.log(
      `ferry: certificate reloaded from ${loaded.certPath} (expires ${loaded.notAfter.toISOString()})`,
    );
  } catch (e) {
    console.error(
      `ferry: certificate reload failed, keeping the old one: ${e instanceof Error ? e.message : e}`,
    );
  }
}

/**
 * `./static` when the working directory has one; otherwise the `static/` beside this module,
 * which in a compiled binary is the embedded copy of the sample site.
 */
async function defaultRoot(): Promise<string> {
  try {
    if ((await Deno.stat("./static")).isDirectory) return "./static";
  } catch {
    // not here
  }
  return fromFileUrl(new URL("./static/", import.meta.url));
}

/**
 * Starts the Python workers for `--wsgi` or `--asgi` before any listener opens; an app that does
 * not import is exit status 2, with the traceback; an ASGI app whose lifespan startup fails is
 * exit status 1, with its message.
 */
async function startPython(
  wsgi: WsgiGatewayOptions,
  options: ResolvedOptions,
): Promise<number | { pool: PythonPool; parts: Partial<ServerParts> }> {
  let resolved;
  try {
    resolved = resolveWsgiOptions(wsgi);
  } catch (e) {
    console.error(`ferry: ${e instanceof Error ? e.message : e}`);
    return 2;
  }
  const stats = new Stats();
  const log = createLogger(options, stats);
  const pool = new PythonPool(resolved, log, stats);
  try {
    await pool.start();
  } catch (e) {
    await log.close();
    if (e instanceof AsgiStartupError) {
      console.error(`ferry: ${e.message}\n${e.detail.trimEnd()}`);
      return 1;
    }
    if (e instanceof WsgiImportError) {
      const flag = resolved.interface === "asgi" ? "--asgi" : "--wsgi";
      console.error(
        `ferry: ${e.message}\n${e.traceback.trimEnd()}\n(check ${flag}, --wsgi-chdir and --wsgi-pythonpath)`,
      );
    } else console.error(`ferry: the Python workers did not start: ${e instanceof Error ? e.message : e}`);
    return 2;
  }
  const mode = resolved.interface === "asgi"
    ? "ASGI"
    : resolved.threads > 1
    ? `WSGI, ${resolved.threads} threads each`
    : "WSGI";
  console.log(`ferry: ${pool.size} Python workers (${mode}) serve ${resolved.app} (${resolved.python})`);
  const app = resolved.interface === "asgi"
    ? asgiHandler(pool, { log, stats })
    : pythonHandler(pool, { log, stats });
  return { pool, parts: { app, log, stats, stopping: () => pool.close() } };
}

/** Why `root` cannot serve files (not a readable directory); undefined when it can. */
function rootProblem(root: string, flag = `--root ${root}`): string | undefined {
  try {
    if (!Deno.statSync(root).isDirectory) return `${flag} is not a directory`;
    for (const _ of Deno.readDirSync(root)) break;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return `${flag} cannot be read (${why}): give a directory of files to serve`;
  }
  return undefined;
}

/** A `--log-file` or `--error-log` that cannot be opened for appending; undefined when both can. */
function logProblem(options: ServerOptions): string | undefined {
  for (const [flag, path] of [["--log-file", options.logFile], ["--error-log", options.errorLog]] as const) {
    if (!path) continue;
    try {
      const parent = dirname(path);
      if (!Deno.statSync(parent).isDirectory) return `${flag} ${path}: ${parent} is not a directory`;
      Deno.openSync(path, { append: true, create: true }).close();
    } catch (e) {
      return `${flag} ${path} cannot be opened for writing (${e instanceof Error ? e.message : e}); ` +
        "create its directory or choose another path";
    }
  }
  return undefined;
}

/** The start-up line that says what this ferry serves and where it logs. */
function banner(
  options: ServerOptions,
  python: string | undefined,
  isolates: number,
  example = true,
): string {
  const app = python !== undefined
    ? python
    : options.app
    ? `--app ${options.app}`
    : example
    ? "the built-in app"
    : "none (other paths are 404)";
  const access = options.logFormat === "none"
    ? "off"
    : `${options.logFile || "stdout"} (${options.logFormat ?? "plain"})`;
  const mounts = (options.staticMounts ?? []).map((m) => `, --static ${m.prefix}=${m.dir}`).join("");
  const root = options.root === ""
    ? "none (the sample site is not mounted beside an app: --root to serve one)"
    : options.root;
  return `ferry ${VERSION}: root ${root}${mounts}, app ${app}, access log ${access}, ` +
    `errors ${options.errorLog || "stderr"}, ${isolates} isolate${isolates === 1 ? "" : "s"}`;
}

/** Says once, at start, what cannot work under the permissions ferry was given. */
async function notePermissions(): Promise<void> {
  const note = probeNotes(await probeProcess());
  if (note !== undefined) console.log(`ferry: note: ${note}`);
}

/** Runs ferry with `args`; resolves with the process exit code. */
export async function main(args: string[]): Promise<number> {
  let config;
  try {
    config = parseCli(args);
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    if (e.exitCode === 0) {
      await Deno.stdout.write(new TextEncoder().encode(e.output));
      return 0;
    }
    console.error(`ferry: ${e.message} (see --help)`);
    return 2;
  }
  if (config.config.check || config.config.file !== "") {
    // Loaded only for a config: a flags-only start needs neither the schema nor the route table.
    const { checkCommand, runConfig } = await import("./src/config/run.ts");
    return config.config.check ? await checkCommand(config) : await runConfig(config);
  }
  const { options, tls } = config;
  const rootGiven = args.includes("--root") || args.some((a) => a.startsWith("--root="));
  // The sample site is for trying ferry out: with an app of the user's own and no --root, it is
  // not mounted, so /static/ is the app's (Flask serves its static folder there) or a --static's.
  const userApp = config.wsgi !== undefined || (options.app ?? "") !== "";
  if (!rootGiven) options.root = userApp ? "" : await defaultRoot();
  options.authUser = Deno.env.get("FERRY_AUTH_USER") ?? "";
  options.authPass = Deno.env.get("FERRY_AUTH_PASS") ?? "";
  const rootIssue = options.root === "" ? undefined : rootProblem(options.root ?? "./static");
  if (rootIssue !== undefined) {
    if (rootGiven) {
      console.error(`ferry: ${rootIssue}`);
      return 2;
    }
    // The default root is missing (a copy without static/): serve the rest, and say so.
    console.error(`ferry: warning: ${rootIssue}; every /static/ request gets 404 until it exists`);
  }
  for (const m of options.staticMounts ?? []) {
    const issue = rootProblem(m.dir, `--static ${m.prefix}=${m.dir}`);
    if (issue !== undefined) {
      console.error(`ferry: ${issue}`);
      return 2;
    }
  }
  const logIssue = logProblem(options);
  if (logIssue !== undefined) {
    console.error(`ferry: ${logIssue}`);
    return 2;
  }
  // The options, resolved once: everything below gets this object.
  let resolved: ResolvedOptions;
  try {
    resolved = resolveOptions(options);
  } catch (e) {
    console.error(`ferry: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  let acme: AcmeConfig | undefined;
  if (config.acme !== undefined) {
    const checked = await acmeConfig(config.acme);
    if (typeof checked === "string") {
      console.error(`ferry: ${checked}`);
      return 2;
    }
    acme = checked;
  }
  let server: Server;
  let pool: PythonPool | undefined;
  let certNote = "";
  let issuer: AcmeIssuer | undefined;
  // Certificates the issuer found stored, served from the first connection on.
  const certificates = new Map<string, TlsMaterial>();
  let serverLog: Logger | undefined;
  try {
    let material;
    if (options.https !== false) {
      let loaded;
      try {
        loaded = await loadCertificate(tls);
      } catch (e) {
        console.error(`ferry: ${e instanceof Error ? e.message : e}`);
        return 2;
      }
      material = loaded.material;
      if (loaded.selfSigned) {
        certNote =
          ` (self-signed certificate ${loaded.created ? "created" : "reused"}: ${loaded.certPath}; ` +
          `trust it with curl --cacert ${loaded.certPath})`;
      }
    }
    const isolates = options.workers === 0 ? navigator.hardwareConcurrency : (options.workers ?? 1);
    if (options.http3 && !options.https) {
      console.error("ferry: --http3 needs the HTTPS listener (its port and certificate): drop --no-https");
      return 2;
    }
    if (isolates > 1 && options.http3) {
      console.error(
        "ferry: --http3 runs in one isolate (a QUIC endpoint cannot share its UDP port): drop --workers or --http3",
      );
      return 2;
    }
    if (acme !== undefined) {
      issuer = new AcmeIssuer(acme, {
        certificate: (name, stored) => {
          certificates.set(name, stored);
          return server?.setCertificate(name, stored);
        },
        status: (list) => {
          if (server !== undefined) setAcmeStatus(server.stats, list);
        },
        log: (level, message, fields) => {
          if (serverLog !== undefined) serverLog[level](message, fields);
          else if (level !== "debug") console.error(`ferry: ${message} ${JSON.stringify(fields ?? {})}`);
        },
      });
      await issuer.loadStored();
    }
    const acmeParts = acme === undefined
      ? {}
      : { acmeChallenge: acmeChallengeHandler(new AcmeStorage(acme.dir)), certificates };
    if (config.wsgi !== undefined) {
      if (isolates > 1) {
        console.error(
          "ferry: --wsgi and --asgi run their own Python worker processes: use --wsgi-workers, not --workers",
        );
        return 2;
      }
      const started = await startPython(config.wsgi, resolved);
      if (typeof started === "number") return started;
      pool = started.pool;
      server = await serve(resolved, { tls: material, ...acmeParts, ...started.parts });
    } else {
      if (isolates > 1) return await runIsolates(isolates, resolved, tls, material, certNote, issuer);
      // The example app is for a bare start: beside a --root of the user's own, unknown paths are 404.
      const app = rootGiven && !userApp ? { app: notFound } : {};
      server = await serve(resolved, { tls: material, ...acmeParts, ...app });
    }
    serverLog = server.log;
    if (issuer !== undefined) setAcmeStatus(server.stats, issuer.status);
  } catch (e) {
    await pool?.close();
    console.error(`ferry: ${e instanceof Error ? e.message : String(e)}`);
    // A bad --app file is bad input, as a bad flag is: 2. A start that fails otherwise: 1.
    return e instanceof AppLoadError ? 2 : 1;
  }
  for (const url of server.urls) {
    console.log(`ferry listening on ${url}${url.startsWith("https") ? certNote : ""}`);
  }
  if (server.altSvc !== undefined) console.log(`ferry serving HTTP/3 over QUIC (UDP) on the HTTPS port too`);
  const python = config.wsgi === undefined
    ? undefined
    : `${config.wsgi.interface === "asgi" ? "--asgi" : "--wsgi"} ${config.wsgi.app}`;
  console.log(banner(options, python, 1, !rootGiven || userApp));
  if (issuer !== undefined) {
    console.log(acmeBanner(issuer));
    issuer.start();
  }
  await notePermissions();
  if (options.authUser === "" || options.authPass === "") {
    console.log(
      "ferry: uploads are read-only: set FERRY_AUTH_USER and FERRY_AUTH_PASS to allow PUT, POST and DELETE",
    );
  }

  const offStop = onStopSignals({
    drain: () => {
      console.log("ferry: draining (signal again to stop at once)");
      server.shutdown();
    },
    now: () => Deno.exit(1),
  });
  // SIGHUP: reload the certificate and key from disk for new connections, and restart the Python
  // workers one by one with fresh code.
  const reload = () => {
    pool?.reload();
    return reloadCertificate(options, tls, (material) => server.reloadTls(material));
  };
  Deno.addSignalListener("SIGHUP", reload);
  await server.finished;
  issuer?.stop();
  offStop();
  Deno.removeSignalListener("SIGHUP", reload);
  console.log("ferry: stopped");
  return 0;
}

/**
 * `--workers N`: N isolates, each a full server, sharing the ports through SO_REUSEPORT (their
 * supervisor is `src/isolates.ts`). Signals drain every isolate; SIGHUP reloads the certificate in
 * each; `/_metrics` in any isolate sums all of them.
 */
async function runIsolates(
  n: number,
  options: ServerOptions,
  tls: { cert: string; key: string; certDir: string },
  material: TlsMaterial | undefined,
  certNote: string,
  issuer: AcmeIssuer | undefined,
): Promise<number> {
  const isolates = new Isolates(
    n,
    options,
    material,
    issuer === undefined ? undefined : () => ({
      dir: issuer.config.dir,
      certificates: [...issuer.served()],
      status: issuer.status,
    }),
  );
  const first = await isolates.start();
  for (const u of first.urls) {
    console.log(`ferry listening on ${u}${u.startsWith("https") ? certNote : ""} (${n} isolates)`);
  }
  console.log(banner(options, undefined, n));
  if (issuer !== undefined) {
    // One issuer for all the isolates: it orders, they serve what it hands them.
    issuer.listen({
      certificate: (name, tls) => isolates.setCertificate(name, tls),
      status: (status) => isolates.acmeStatus(status),
      log: (level, message, fields) => {
        if (level === "error") console.error(`ferry: ${message} ${JSON.stringify(fields ?? {})}`);
        else if (level === "info") console.log(`ferry: ${message} ${JSON.stringify(fields ?? {})}`);
      },
    });
    console.log(acmeBanner(issuer));
    issuer.start();
  }
  await notePermissions();

  const offStop = onStopSignals({
    drain: () => {
      console.log(`ferry: draining ${n} isolates (signal again to stop at once)`);
      isolates.shutdown();
    },
    now: () => Deno.exit(1),
  });
  const reload = () => reloadCertificate(options, tls, (material) => isolates.reloadTls(material));
  Deno.addSignalListener("SIGHUP", reload);
  await isolates.finished;
  issuer?.stop();
  await isolates.close();
  offStop();
  Deno.removeSignalListener("SIGHUP", reload);
  console.log("ferry: stopped");
  return 0;
}

if (import.meta.main) {
  // `deno task start` runs in the repository's folder; the user's relative paths (--root ./site,
  // --config ferry.jsonc) mean the folder they ran it from, which the task passes on.
  const from = Deno.env.get("FERRY_TASK_CWD");
  if (from !== undefined && from !== "" && from !== Deno.cwd()) {
    try {
      Deno.chdir(from);
    } catch {
      // gone or unreadable: stay in the task's folder
    }
  }
  Deno.exit(await main(Deno.args));
}
