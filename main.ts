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

import { CliError, parseCli } from "./src/cli.ts";
import { serve } from "./src/mod.ts";
import { loadCertificate } from "./src/tls/cert.ts";
import type { Server } from "./src/server.ts";

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
  const { options, tls } = config;
  options.authUser = Deno.env.get("FERRY_AUTH_USER") ?? "";
  options.authPass = Deno.env.get("FERRY_AUTH_PASS") ?? "";
  let server: Server;
  let certNote = "";
  try {
    let material;
    if (options.https !== false) {
      const loaded = await loadCertificate(tls);
      material = loaded.material;
      if (loaded.selfSigned) {
        certNote =
          ` (self-signed certificate ${loaded.created ? "created" : "reused"}: ${loaded.certPath}; ` +
          `trust it with curl --cacert ${loaded.certPath})`;
      }
    }
    server = await serve(options, { tls: material });
  } catch (e) {
    console.error(`ferry: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  for (const url of server.urls) {
    console.log(`ferry listening on ${url}${url.startsWith("https") ? certNote : ""}`);
  }
  if (options.authUser === "" || options.authPass === "") {
    console.log(
      "ferry: uploads are read-only: set FERRY_AUTH_USER and FERRY_AUTH_PASS to allow PUT, POST and DELETE",
    );
  }

  let signals = 0;
  const stop = () => {
    signals++;
    if (signals === 1) {
      console.log("ferry: draining (signal again to stop at once)");
      server.shutdown();
    } else {
      Deno.exit(1);
    }
  };
  // SIGHUP: reload the certificate and key from disk for new connections.
  const reload = async () => {
    if (options.https === false) return;
    try {
      const loaded = await loadCertificate(tls);
      await server.reloadTls(loaded.material);
      console.log(
        `ferry: certificate reloaded from ${loaded.certPath} (expires ${loaded.notAfter.toISOString()})`,
      );
    } catch (e) {
      console.error(
        `ferry: certificate reload failed, keeping the old one: ${e instanceof Error ? e.message : e}`,
      );
    }
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGHUP", reload);
  await server.finished;
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  Deno.removeSignalListener("SIGHUP", reload);
  console.log("ferry: stopped");
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
