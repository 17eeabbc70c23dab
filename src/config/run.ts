/**
 * `ferry --config FILE`: the server started from a config file (flags beside it override its
 * listeners and set every limit), the admin API beside it when the config asks, SIGHUP reloading
 * the file; and `--check`, which prints the resolved config (the file's, or the one the flags
 * make) and exits.
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import type { CliConfig } from "../cli.ts";
import { createLogger } from "../mod.ts";
import { Server, type TlsMaterial } from "../server.ts";
import { resolveOptions, type ServerOptions } from "../options.ts";
import { Stats } from "../stats.ts";
import { loadCertificate, makeSelfSigned } from "../tls/cert.ts";
import { onStopSignals } from "../stop_signals.ts";
import { metricsMounts } from "../metrics/mounts.ts";
import { sendError } from "../http/error_page.ts";
import { STATUS } from "../http/status.ts";
import { buildConfig, type BuildContext } from "./build.ts";
import { ConfigError, formatProblems, loadConfigFile } from "./load.ts";
import { Reloader } from "./reloader.ts";
import { adminHandler } from "./admin.ts";
import { splitAddress } from "./resolve.ts";
import { flagsConfig } from "./from_flags.ts";
import { PROXY_FACTORY } from "./proxy.ts";
import type { FerryConfig } from "./types.ts";
import { type AcmeConfig, AcmeIssuer } from "../acme/issuer.ts";
import { acmeBanner, acmeConfig } from "../acme/setup.ts";
import { acmeChallengeHandler } from "../acme/challenge.ts";
import { AcmeStorage } from "../acme/storage.ts";
import { setAcmeStatus } from "../acme/metrics.ts";
import { ACME_OPTIONS, type AcmeFlags } from "../acme/acme_options.ts";
import { defaultsOf } from "../option_spec.ts";

/** Options that come from the config's `listen`, unless a flag gave them. */
export function listenOptions(config: FerryConfig, flags: ServerOptions): ServerOptions {
  const o: ServerOptions = {};
  const http = config.listen?.http;
  const https = config.listen?.https;
  if (http === false) o.http = false;
  else if (http !== undefined) {
    const a = splitAddress(http)!;
    o.host = a.host;
    o.port = a.port;
  }
  if (https === false) o.https = false;
  else if (https !== undefined) {
    const a = splitAddress(https)!;
    o.host ??= a.host;
    if (o.host !== a.host && flags.host === undefined) {
      throw new ConfigError([{
        path: "listen.https",
        message: `ferry listens on one address: ${a.host} differs from listen.http's ${o.host}`,
      }]);
    }
    o.httpsPort = a.port;
  }
  return { ...o, ...flags };
}

/** `--check`: prints the resolved config as JSON; 0 when valid, 2 with one line per problem. */
export async function checkCommand(cli: CliConfig): Promise<number> {
  let config: FerryConfig;
  try {
    config = cli.config.file === ""
      ? flagsConfig(cli)
      : await loadConfigFile(cli.config.file, PROXY_FACTORY !== undefined);
    const o = resolveOptions({ ...cli.options, ...listenOptions(config, cli.given) });
    config = {
      ...config,
      listen: {
        http: o.http ? `${o.host}:${o.port}` : false,
        https: o.https ? `${o.host}:${o.httpsPort}` : false,
      },
    };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(formatProblems(e.problems));
    return 2;
  }
  console.log(JSON.stringify(config, null, 2));
  return 0;
}

/** The certificates of sites with `tls.cert`/`key` or `tls.self_signed`, by host name. */
async function siteCertificates(
  config: FerryConfig,
  selfSigned: Map<string, TlsMaterial> = new Map(),
): Promise<Map<string, TlsMaterial>> {
  const out = new Map<string, TlsMaterial>();
  for (const site of config.sites ?? []) {
    const tls = site.tls;
    if (tls === undefined) continue;
    let material: TlsMaterial | undefined;
    if (tls.cert !== undefined && tls.key !== undefined) {
      material = { cert: await Deno.readTextFile(tls.cert), key: await Deno.readTextFile(tls.key) };
    } else if (tls.self_signed) {
      // Made once per set of hosts: a reload keeps the pair clients have seen.
      const key = JSON.stringify(site.hosts ?? []);
      material = selfSigned.get(key) ?? await makeSelfSigned(site.hosts ?? []);
      selfSigned.set(key, material);
    }
    if (material === undefined) continue;
    for (const h of site.hosts ?? []) out.set(h.toLowerCase(), material);
  }
  return out;
}

/**
 * Automatic HTTPS for the sites with `"tls": { "acme": true }`: their hosts are the names (Caddy's
 * way: no separate flag); `--acme-email`, `--acme-directory`, `--acme-ca-cert`, `--acme-dir` tune it.
 * Undefined when no site asks; a string says why it cannot run.
 */
async function acmeFor(
  config: FerryConfig,
  cli: CliConfig,
  https: boolean,
  http: boolean,
): Promise<AcmeConfig | string | undefined> {
  const names = new Set(cli.acme?.domains ?? []);
  for (const site of config.sites ?? []) {
    if (site.tls?.acme) { for (const h of site.hosts ?? []) names.add(h.toLowerCase()); }
  }
  if (names.size === 0) return undefined;
  if (!https) return "a site asks for ACME certificates: the HTTPS listener must be on";
  if (!http) {
    return "a site asks for ACME certificates: the CA validates over plain HTTP, so listen.http must be on";
  }
  const flags: AcmeFlags = { ...defaultsOf(ACME_OPTIONS), ...cli.acme, domains: [...names] };
  return await acmeConfig(flags);
}

/** The flags that shape the flags' one site, which a config's sites replace. */
function ignoredFlags(cli: CliConfig): string[] {
  const g = cli.given;
  const out: string[] = [];
  if (g.root !== undefined) out.push("--root");
  if (g.staticPrefix !== undefined) out.push("--static-prefix");
  if (g.staticMounts !== undefined) out.push("--static");
  if (g.app !== undefined) out.push("--app");
  if (cli.wsgi !== undefined) out.push(cli.wsgi.interface === "asgi" ? "--asgi" : "--wsgi");
  return out;
}

/** Runs ferry from `cli.config.file`; resolves with the exit code. */
export async function runConfig(cli: CliConfig): Promise<number> {
  const file = resolve(cli.config.file);
  const proxy = PROXY_FACTORY;
  let config: FerryConfig;
  let options;
  try {
    config = await loadConfigFile(file, proxy !== undefined);
    options = resolveOptions({ ...cli.options, ...listenOptions(config, cli.given), root: "" });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(`ferry: ${file}: ${e.problems.length} problem${e.problems.length === 1 ? "" : "s"}`);
    console.error(formatProblems(e.problems));
    return 2;
  }
  const ignored = ignoredFlags(cli);
  if (ignored.length > 0) {
    console.log(
      `ferry: note: ${ignored.join(", ")} serve nothing beside --config: its routes say what is served`,
    );
  }
  if ((options.workers ?? 1) !== 1) {
    console.error('ferry: --config runs one isolate: each app has its own workers ("workers" under "apps")');
    return 2;
  }
  let material: TlsMaterial | undefined;
  let certificates = new Map<string, TlsMaterial>();
  const selfSigned = new Map<string, TlsMaterial>();
  if (options.https) {
    try {
      material = (await loadCertificate(cli.tls)).material;
      certificates = await siteCertificates(config, selfSigned);
    } catch (e) {
      console.error(`ferry: ${e instanceof Error ? e.message : e}`);
      return 2;
    }
  }
  const stats = new Stats();
  const log = createLogger(options, stats);
  const acme = await acmeFor(config, cli, options.https, options.http);
  if (typeof acme === "string") {
    await log.close();
    console.error(`ferry: ${acme}`);
    return 2;
  }
  let issuer: AcmeIssuer | undefined;
  const holderServer: { server?: Server } = {};
  if (acme !== undefined) {
    issuer = new AcmeIssuer(acme, {
      certificate: (name, stored) => {
        certificates.set(name, stored);
        return holderServer.server?.setCertificate(name, stored);
      },
      status: (list) => {
        if (holderServer.server !== undefined) setAcmeStatus(holderServer.server.stats, list);
      },
      log: (level, message, fields) => log[level](message, fields),
    });
    await issuer.loadStored();
  }
  const holder: { reloader?: Reloader } = {};
  const graceMs = options.drainTimeout * 1000;
  const server = new Server(options, {
    app: (req, res) => sendError(res, req.headers.get("accept"), STATUS.NotFound, "Not Found"),
    tls: material,
    certificates,
    acmeChallenge: acme === undefined ? undefined : acmeChallengeHandler(new AcmeStorage(acme.dir)),
    log,
    stats,
    stopping: () => holder.reloader?.current.retire(undefined, graceMs) ?? Promise.resolve(),
  });
  const ctx: BuildContext = {
    options,
    log,
    stats,
    builtins: [...server.builtins, ...metricsMounts(options, stats)],
    proxy,
  };
  let live;
  try {
    live = await buildConfig(config, ctx);
  } catch (e) {
    await log.close();
    if (!(e instanceof ConfigError)) throw e;
    console.error(`ferry: ${file}:`);
    console.error(formatProblems(e.problems));
    return 2;
  }
  holderServer.server = server;
  if (issuer !== undefined) setAcmeStatus(server.stats, issuer.status);
  server.dispatcher = live.table;
  const reloader = holder.reloader = new Reloader(server, ctx, live, {
    baseDir: dirname(file),
    graceMs,
    // A reload reads the sites' certificate files again (and makes self-signed ones for new hosts).
    swapped: async (next) => {
      if (!options.https) return;
      for (const [name, m] of await siteCertificates(next.config, selfSigned)) {
        const before = certificates.get(name);
        if (before?.cert === m.cert && before.key === m.key) continue; // unchanged: no listener swap
        certificates.set(name, m);
        await server.setCertificate(name, m);
      }
    },
  });
  // Before the listeners open: a SIGHUP must never meet the default action (ending the process).
  const hup = async () => {
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (e) {
      log.error("SIGHUP: the config file cannot be read; the running config stays", {
        file,
        error: String(e),
      });
      return;
    }
    const result = await reloader.load(text, dirname(file), "SIGHUP");
    if (result.ok) {
      console.log(`ferry: config reloaded (${result.changes})`);
      return;
    }
    console.error(
      `ferry: config reload refused, the running config stays:\n${formatProblems(result.problems)}`,
    );
  };
  Deno.addSignalListener("SIGHUP", hup);
  let admin: Server | undefined;
  try {
    await server.listen();
    if (config.admin) {
      const a = splitAddress(config.admin.listen)!;
      admin = new Server(
        { host: a.host, port: a.port, https: false, logFormat: "none", metrics: false },
        { app: adminHandler(reloader), log, stats: new Stats() },
      );
      await admin.listen();
    }
  } catch (e) {
    Deno.removeSignalListener("SIGHUP", hup);
    await server.shutdown();
    await live.retire(undefined, 0);
    console.error(`ferry: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  for (const url of server.urls) console.log(`ferry listening on ${url}`);
  for (const app of live.apps.values()) console.log(`ferry: app ${app.name}: ${app.summary}`);
  const routes = live.table.sites.reduce((n, s) => n + s.routes.length, 0);
  console.log(`ferry: config ${file}: ${live.table.sites.length} sites, ${routes} routes`);
  if (admin !== undefined) console.log(`ferry: admin API on ${admin.urls[0]} (GET /config, POST /load)`);
  if (issuer !== undefined) {
    console.log(acmeBanner(issuer));
    issuer.start();
  }

  const offStop = onStopSignals({
    drain: () => {
      console.log("ferry: draining (signal again to stop at once)");
      server.shutdown();
      admin?.shutdown();
    },
    now: () => Deno.exit(1),
  });
  await server.finished;
  issuer?.stop();
  await admin?.shutdown();
  offStop();
  Deno.removeSignalListener("SIGHUP", hup);
  console.log("ferry: stopped");
  return 0;
}
