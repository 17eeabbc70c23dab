/**
 * The WebSocket echo app of `deno task bench`: a `deno serve`-style fetch app with
 * `Deno.upgradeWebSocket`, served as it is by ferry (`--app`) and by Deno.serve
 * (`ws_echo_deno.ts`).
 *
 * @module
 */

/** Echoes every message. */
const wsEcho = {
  fetch(request: Request): Response {
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.onmessage = (e) => socket.send(e.data);
    return response;
  },
};

export default wsEcho;
