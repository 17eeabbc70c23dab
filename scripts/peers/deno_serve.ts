/**
 * The Deno.serve peer for `deno task bench`: answers /hello as ferry's example app does, and reads
 * and discards PUT bodies. Run: `deno run -A scripts/peers/deno_serve.ts HTTP_PORT [HTTPS_PORT DIR]`
 * (DIR holds cert.pem and key.pem for the HTTPS listener).
 *
 * @module
 */

const [httpPort, httpsPort, dir] = Deno.args;
const body = "Hello, World!";
/** The bench's 4 KiB file, for the HTTP/2 static row (served from memory, as ferry's cache does). */
const fourK = dir ? Deno.readFileSync(`${dir}/www/bench-4k.bin`) : undefined;

function handler(req: Request): Response | Promise<Response> {
  if (fourK && req.url.endsWith("/static/bench-4k.bin")) {
    return new Response(fourK, { headers: { "content-type": "application/octet-stream" } });
  }
  if (req.method === "PUT" || req.method === "POST") {
    return req.arrayBuffer().then((b) => new Response(`${b.byteLength}\n`, { status: 201 }));
  }
  return new Response(body, { headers: { "content-type": "text/plain; charset=utf-8" } });
}

const servers = [
  Deno.serve({ hostname: "127.0.0.1", port: Number(httpPort ?? 8081), onListen() {} }, handler),
];
if (httpsPort && dir) {
  servers.push(Deno.serve({
    hostname: "127.0.0.1",
    port: Number(httpsPort),
    cert: Deno.readTextFileSync(`${dir}/cert.pem`),
    key: Deno.readTextFileSync(`${dir}/key.pem`),
    onListen() {},
  }, handler));
}
const stop = () => Promise.all(servers.map((s) => s.shutdown())).then(() => Deno.exit(0));
Deno.addSignalListener("SIGTERM", stop);
Deno.addSignalListener("SIGINT", stop);
