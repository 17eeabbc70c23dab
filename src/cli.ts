/**
 * Command-line flags → options, built from the option tables (`SERVER_OPTIONS`, `WSGI_OPTIONS`
 * and the TLS flags below): each table entry is one flag, with its rule, default and help line.
 * A bad flag or value becomes a {@linkcode CliError} with one line saying what is wrong, which
 * `main.ts` prints before exiting with status 2.
 *
 * @module
 */

import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { SERVER_OPTIONS, type ServerOptions } from "./options.ts";
import { WSGI_OPTIONS, type WsgiGatewayOptions } from "./app/python/wsgi_options.ts";
import { ACME_OPTIONS, type AcmeFlags } from "./acme/acme_options.ts";
import {
  bool,
  defaultsOf,
  flagOf,
  option,
  type OptionSpec,
  type OptionTable,
  type OptionTableOf,
  text,
} from "./option_spec.ts";

/** Everything the command line configures. */
export interface CliConfig {
  /** Server options. */
  options: ServerOptions;
  /** TLS: certificate file, key file, directory of the self-signed pair. */
  tls: { cert: string; key: string; certDir: string };
  /** The Python WSGI gateway, when `--wsgi` is given. */
  wsgi?: WsgiGatewayOptions;
  /** Automatic HTTPS, when `--acme-domain` is given. */
  acme?: AcmeFlags;
  /** `--config` and `--check`. */
  config: ConfigFlags;
  /** The server options given on the command line (not defaults): those override a config file. */
  given: ServerOptions;
}

/** The config file flags. */
export interface ConfigFlags {
  /** `--config FILE`: sites, routes and apps from a JSONC file; `""`: none. */
  file: string;
  /** `--check`: validate, print the resolved config as JSON, exit. */
  check: boolean;
}

/** The config file flags' table. */
export const CONFIG_OPTIONS: OptionTableOf<ConfigFlags> = {
  file: option({
    flag: "config",
    rule: text("<file>"),
    default: "",
    group: "Config file:",
    help: "sites, routes and apps from a JSONC file (ferry.schema.json); flags beside it override it",
  }),
  check: option({
    flag: "check",
    rule: bool,
    default: false,
    group: "Config file:",
    help: "validate --config (or the flags), print the resolved config as JSON and exit",
  }),
};

/** A command line that cannot be used; `exitCode` is 0 for --help and --version. */
export class CliError extends Error {
  /** Exit status for the process. */
  readonly exitCode: number;
  /** Text for stdout (help), if any. */
  readonly output: string;

  /** An error with a one-line message, an exit code, and optional output. */
  constructor(message: string, exitCode: number, output = "") {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
    this.output = output;
  }
}

export { VERSION } from "./version.ts";
import { VERSION } from "./version.ts";

/** The TLS files: the third option table, kept here since they are read before the server starts. */
export const TLS_OPTIONS: OptionTableOf<CliConfig["tls"]> = {
  cert: option({
    flag: "cert",
    rule: text("<file>"),
    default: "",
    group: "TLS:",
    help: "PEM certificate chain for HTTPS (with --key)",
  }),
  key: option({
    flag: "key",
    rule: text("<file>"),
    default: "",
    group: "TLS:",
    help: "PEM private key for HTTPS (with --cert)",
  }),
  certDir: option({
    flag: "cert-dir",
    rule: text("<dir>"),
    default: "./certs",
    group: "TLS:",
    help: "where the self-signed localhost certificate is kept",
  }),
};

/** The `--help` headings, in order; each table entry names its own. */
const GROUPS = [
  "Config file:",
  "Listeners:",
  "TLS:",
  "Automatic HTTPS (ACME):",
  "Static files:",
  "Reverse proxy:",
  "Uploads:",
  "Apps:",
  "Limits and timeouts:",
  "WebSocket (fetch apps calling upgradeWebSocket):",
  "Logs and metrics:",
];

/** The tables, in the order their flags are listed within a heading. */
const TABLES: readonly OptionTable[] = [
  CONFIG_OPTIONS,
  TLS_OPTIONS,
  SERVER_OPTIONS,
  WSGI_OPTIONS,
  ACME_OPTIONS,
];

/** The commander option of one table entry. */
function flagOption(spec: OptionSpec<unknown>): Option {
  const rule = spec.rule;
  const arg = spec.arg ?? rule.arg;
  const o = new Option(arg === undefined ? flagOf(spec)! : `${flagOf(spec)} ${arg}`, spec.help);
  if (arg === undefined) return o; // a switch: commander gives --no-NAME its default of true
  o.argParser((v: string, previous: unknown) => {
    let value: unknown;
    try {
      value = rule.parse(v);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
    // A list given again adds to what came before (--acme-domain a --acme-domain b).
    if (Array.isArray(value) && Array.isArray(previous) && previous !== spec.default) {
      return [...new Set([...previous, ...value])];
    }
    return value;
  });
  // An empty default is not shown (commander would print `(default: "")`).
  const d = spec.default;
  const shown = spec.shown ?? (rule.show !== undefined ? rule.show(d) : String(d));
  if (d !== "" && !(Array.isArray(d) && d.length === 0)) o.default(d, shown);
  return o;
}

const EPILOG = `
Environment:
  FERRY_AUTH_USER, FERRY_AUTH_PASS   Basic credentials that allow PUT, POST and DELETE under /uploads/

Examples:
  ferry --port 9000 --no-https                          plain HTTP on port 9000
  ferry --host 0.0.0.0 --cert cert.pem --key key.pem    every interface, your certificate
  ferry --wsgi mysite.wsgi:application --wsgi-chdir ~/mysite --wsgi-python /usr/bin/python3
                                                        a Django project
  ferry --app examples/fetch_app.ts --static-prefix /   files first, the app for the rest

Sizes take K, M or G (powers of 1024); times are seconds. A bad flag or value exits with status 2,
a start that fails (a port in use) with 1.`;

/** Builds the commander program (also used to print --help). */
export function program(): Command {
  const cmd = new Command("ferry")
    .description("ferry: an HTTPS/HTTP/1.1 server for static files, apps and uploads")
    .version(VERSION, "--version", "print the version and exit")
    .helpOption("-h, --help", "print this help and exit")
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
  for (const group of GROUPS) {
    cmd.optionsGroup(group);
    for (const table of TABLES) {
      for (const spec of Object.values(table)) {
        if (spec.flag !== undefined && spec.group === group) cmd.addOption(flagOption(spec));
      }
    }
  }
  return cmd;
}

/** The values of `table`'s options that the command line itself gave (no defaults). */
function givenOf(cmd: Command, table: OptionTable): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(table)) {
    if (spec.flag === undefined) continue;
    const attr = new Option(flagOf(spec)!).attributeName();
    if (cmd.getOptionValueSource(attr) === "cli") out[name] = cmd.opts()[attr];
  }
  return out;
}

/** The values the command line gave for `table`'s options (by commander's attribute names). */
function valuesOf(table: OptionTable, flags: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(table)) {
    if (spec.flag === undefined) continue;
    const v = flags[new Option(flagOf(spec)!).attributeName()];
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/**
 * Parses the arguments after the program name. Throws {@linkcode CliError}.
 *
 * @example
 * ```ts
 * import { parseCli } from "./cli.ts";
 * console.log(parseCli(["--port", "9000"]).options.port); // 9000
 * ```
 */
export function parseCli(args: string[]): CliConfig {
  const cmd = program();
  try {
    cmd.parse(pythonAliases(args), { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.help") {
        throw new CliError("help", 0, cmd.helpInformation() + EPILOG + "\n");
      }
      if (e.code === "commander.version") throw new CliError("version", 0, VERSION + "\n");
      // Whole, so that commander's "(Did you mean --port?)" stays.
      throw new CliError(e.message.replace(/^error: /, "").replace(/\n+/g, " ").trim(), 2);
    }
    throw e;
  }
  const f = cmd.opts();
  const tls = { ...defaultsOf(TLS_OPTIONS), ...valuesOf(TLS_OPTIONS, f) } as CliConfig["tls"];
  return {
    options: valuesOf(SERVER_OPTIONS, f) as ServerOptions,
    tls,
    wsgi: f.wsgi === undefined && f.asgi === undefined ? undefined : wsgiConfig(f),
    acme: acmeConfig(f, tls),
    config: { ...defaultsOf(CONFIG_OPTIONS), ...valuesOf(CONFIG_OPTIONS, f) } as ConfigFlags,
    given: givenOf(cmd, SERVER_OPTIONS) as ServerOptions,
  };
}

function acmeConfig(f: Record<string, unknown>, tls: CliConfig["tls"]): AcmeFlags | undefined {
  const given = valuesOf(ACME_OPTIONS, f);
  if (given.domains === undefined && typeof f.config === "string" && f.config !== "") {
    // A config names its ACME hosts itself (a site's "tls": { "acme": true }); the flags tune the CA.
    return { ...defaultsOf(ACME_OPTIONS), ...given, domains: [] } as AcmeFlags;
  }
  if (given.domains === undefined) {
    for (const [name, flag] of [["email", "--acme-email"], ["caCertFile", "--acme-ca-cert"]]) {
      if (given[name] !== undefined) {
        throw new CliError(`${flag} needs --acme-domain: name the domains to get certificates for`, 2);
      }
    }
    return undefined;
  }
  if (tls.cert !== "" || tls.key !== "") {
    throw new CliError("--acme-domain excludes --cert and --key: certificates come from the ACME CA", 2);
  }
  if (f.https === false) throw new CliError("--acme-domain needs the HTTPS listener: drop --no-https", 2);
  if (f.http === false) {
    throw new CliError(
      "--acme-domain needs the HTTP listener (the CA validates http-01 on port 80): drop --no-http",
      2,
    );
  }
  return { ...defaultsOf(ACME_OPTIONS), ...given } as AcmeFlags;
}

/** `--python-X` is another name for `--wsgi-X` (the worker flags serve --wsgi and --asgi alike). */
function pythonAliases(args: string[]): string[] {
  return args.map((a) => a.startsWith("--python-") ? "--wsgi-" + a.slice("--python-".length) : a);
}

function wsgiConfig(f: Record<string, unknown>): WsgiGatewayOptions {
  if (f.wsgi !== undefined && f.asgi !== undefined) {
    throw new CliError("--wsgi and --asgi exclude each other: the app speaks one of them", 2);
  }
  const asgi = f.asgi !== undefined;
  const flag = asgi ? "--asgi" : "--wsgi";
  if (f.app !== undefined && f.app !== "") {
    throw new CliError(
      `${flag} and --app exclude each other: choose the Python app or the TypeScript one`,
      2,
    );
  }
  if (asgi && Number(f.wsgiThreads ?? 1) > 1) {
    throw new CliError("--wsgi-threads is for --wsgi apps: an --asgi worker serves many requests at once", 2);
  }
  const values = valuesOf(WSGI_OPTIONS, f);
  return {
    ...values,
    app: String(f.asgi ?? f.wsgi),
    interface: asgi ? "asgi" : "wsgi",
    asgi: asgi ? String(f.asgi) : "",
  };
}
