/**
 * Debian's `pebble` (Let's Encrypt's test CA) and `pebble-challtestsrv` (its DNS) for tests, each
 * on free loopback ports. pebble ships no certificate for its own listener, so a throwaway CA and
 * a localhost certificate are made with the openssl CLI; pass `caFile` to ferry as `--acme-ca-cert`.
 * pebble validates http-01 on the `httpPort` it is given (ferry's plain port) and resolves every
 * name to 127.0.0.1 through challtestsrv. Its root changes at every start.
 *
 * @module
 */

/** A free TCP port on 127.0.0.1 (closed again at once). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Options of {@linkcode startPebble}. */
export interface PebbleOptions {
  /** pebble's share of nonces rejected with badNonce, percent (its default is 5). */
  nonceReject?: number;
}

/** Running pebble and challtestsrv. */
export interface Pebble extends AsyncDisposable {
  /** The ACME directory URL. */
  directory: string;
  /** The PEM file of the throwaway CA that signed pebble's listener certificate. */
  caFile: string;
  /** The directory holding the test's files. */
  dir: string;
  /** pebble's output so far. */
  output: () => string;
  /** PEM of pebble's issuing root (for verifying what ferry serves). */
  root: () => Promise<string>;
  /** Points `host` at `ip` in challtestsrv (to make a validation fail, say). */
  addA: (host: string, ip: string) => Promise<void>;
}

async function run(cmd: string, args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

function spawn(cmd: string, args: string[], env: Record<string, string>, sink: (t: string) => void) {
  const child = new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped", stdin: "null" }).spawn();
  const pump = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of s) sink(dec.decode(chunk, { stream: true }));
  };
  const done = Promise.all([pump(child.stdout), pump(child.stderr)]);
  return { child, done };
}

/** Starts challtestsrv and pebble; waits until pebble's directory answers. */
export async function startPebble(httpPort: number, o: PebbleOptions = {}): Promise<Pebble> {
  return await (await preparePebble(o)).start(httpPort);
}

/** pebble's files and ports, ready to start (so that a client can be pointed at it first). */
export interface PreparedPebble {
  /** The ACME directory URL it will answer at. */
  directory: string;
  /** The PEM file of the CA of its listener. */
  caFile: string;
  /** Starts it, validating http-01 on `httpPort` (ferry's `--port`). */
  start(httpPort: number): Promise<Pebble>;
}

/** Makes pebble's certificate and config and picks its ports, without starting it. */
export async function preparePebble(o: PebbleOptions = {}): Promise<PreparedPebble> {
  const dir = await Deno.makeTempDir({ prefix: "ferry-pebble-" });
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=ferry test CA",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
  ], dir);
  await Deno.writeTextFile(
    `${dir}/ext.cnf`,
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
  );
  await run("openssl", [
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-subj",
    "/CN=localhost",
    "-keyout",
    "pebble.key",
    "-out",
    "pebble.csr",
  ], dir);
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    "pebble.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    "ext.cnf",
    "-out",
    "pebble.pem",
  ], dir);
  const acmePort = freePort();
  const mgmtPort = freePort();
  const dnsPort = freePort();
  const challMgmt = freePort();
  const directory = `https://127.0.0.1:${acmePort}/dir`;
  return {
    directory,
    caFile: `${dir}/ca.pem`,
    start: (httpPort: number) =>
      launch(o, dir, directory, { acmePort, mgmtPort, dnsPort, challMgmt, httpPort }),
  };
}

interface Ports {
  acmePort: number;
  mgmtPort: number;
  dnsPort: number;
  challMgmt: number;
  httpPort: number;
}

async function launch(o: PebbleOptions, dir: string, directory: string, ports: Ports): Promise<Pebble> {
  const { acmePort, mgmtPort, dnsPort, challMgmt } = ports;
  await Deno.writeTextFile(
    `${dir}/pebble.json`,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${mgmtPort}`,
        certificate: `${dir}/pebble.pem`,
        privateKey: `${dir}/pebble.key`,
        httpPort: ports.httpPort,
        tlsPort: freePort(),
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
      },
    }),
  );

  let out = "";
  const sink = (t: string) => out += t;
  const dns = spawn(
    "pebble-challtestsrv",
    [
      "-defaultIPv4",
      "127.0.0.1",
      "-defaultIPv6",
      "",
      "-dns01",
      `127.0.0.1:${dnsPort}`,
      "-http01",
      "",
      "-https01",
      "",
      "-tlsalpn01",
      "",
      "-management",
      `127.0.0.1:${challMgmt}`,
    ],
    {},
    sink,
  );
  const pebble = spawn("pebble", ["-config", `${dir}/pebble.json`, "-dnsserver", `127.0.0.1:${dnsPort}`], {
    PEBBLE_VA_NOSLEEP: "1",
    PEBBLE_WFE_NONCEREJECT: String(o.nonceReject ?? 5),
  }, sink);
  const ca = await Deno.readTextFile(`${dir}/ca.pem`);
  const client = Deno.createHttpClient({ caCerts: [ca] });
  const give = Date.now() + 20000;
  for (;;) {
    try {
      const r = await fetch(directory, { client });
      await r.body?.cancel();
      if (r.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > give) throw new Error(`pebble did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    directory,
    caFile: `${dir}/ca.pem`,
    dir,
    output: () => out,
    root: async () => {
      const r = await fetch(`https://127.0.0.1:${mgmtPort}/roots/0`, { client });
      return await r.text();
    },
    addA: async (host, ip) => {
      const r = await fetch(`http://127.0.0.1:${challMgmt}/add-a`, {
        method: "POST",
        body: JSON.stringify({ host, addresses: [ip] }),
      });
      await r.body?.cancel();
      if (!r.ok) throw new Error(`challtestsrv add-a: ${r.status}`);
    },
    async [Symbol.asyncDispose]() {
      for (const p of [pebble, dns]) {
        try {
          p.child.kill("SIGTERM");
        } catch {
          // gone
        }
        await p.child.status;
        await p.done;
      }
      client.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** What a TLS client sees at 127.0.0.1:`port` asking for `name`: the leaf's serial and whether the
 * chain it was sent verifies to `rootFile` for that name (openssl s_client, no intermediates given). */
export async function tlsView(
  port: number,
  name: string,
  rootFile: string,
): Promise<{ serial: string; verified: boolean; chainLength: number }> {
  const out = await new Deno.Command("openssl", {
    args: [
      "s_client",
      "-connect",
      `127.0.0.1:${port}`,
      "-servername",
      name,
      "-verify_hostname",
      name,
      "-CAfile",
      rootFile,
      "-showcerts",
      "-verify_return_error",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  let serial = "";
  if (pems.length > 0) {
    const x = await new Deno.Command("openssl", {
      args: ["x509", "-noout", "-serial"],
      stdin: "piped",
      stdout: "piped",
    })
      .spawn();
    const w = x.stdin.getWriter();
    await w.write(new TextEncoder().encode(pems[0] + "\n"));
    await w.close();
    serial = new TextDecoder().decode((await x.output()).stdout).trim().replace(/^serial=/, "");
  }
  return { serial, verified: /Verify return code: 0 \(ok\)/.test(text), chainLength: pems.length };
}
