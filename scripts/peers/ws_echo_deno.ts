/**
 * Deno.serve running the WebSocket echo app, for `deno task bench`:
 * `deno run -A scripts/peers/ws_echo_deno.ts HTTP_PORT HTTPS_PORT` (the HTTPS port is only
 * listened on, so the bench's start-up check finds both).
 *
 * @module
 */

import wsEcho from "./ws_echo_app.ts";

const [httpPort, httpsPort] = Deno.args;
const server = Deno.serve({ hostname: "127.0.0.1", port: Number(httpPort), onListen() {} }, wsEcho.fetch);
const placeholder = Deno.listen({ hostname: "127.0.0.1", port: Number(httpsPort) });
const stop = () => {
  placeholder.close();
  server.shutdown().then(() => Deno.exit(0));
};
Deno.addSignalListener("SIGTERM", stop);
Deno.addSignalListener("SIGINT", stop);
