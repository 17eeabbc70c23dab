/**
 * The echo app the WebSocket tests run on ferry: a `deno serve`-style fetch app using
 * `Deno.upgradeWebSocket` unchanged. Text comes back as text, binary as binary; `/protocol`
 * agrees on the client's last offered subprotocol; `/throw` has a listener that throws.
 *
 * @module
 */

/** The app. */
const echoApp = {
  fetch(request: Request): Response {
    const url = new URL(request.url);
    if (url.pathname === "/plain") return new Response("plain\n");
    const offered = (request.headers.get("sec-websocket-protocol") ?? "").split(",").map((s) => s.trim());
    const protocol = url.pathname === "/protocol" ? offered[offered.length - 1] : undefined;
    const { socket, response } = Deno.upgradeWebSocket(request, protocol ? { protocol } : {});
    socket.binaryType = "arraybuffer";
    socket.onmessage = (e) => {
      if (url.pathname === "/throw") throw new Error("listener bug");
      if (e.data === "close-me") socket.close(4001, "asked to");
      else if (e.data === "buffered?") {
        socket.send(new Uint8Array(512 * 1024));
        socket.send(`buffered ${socket.bufferedAmount}`);
      } else socket.send(e.data);
    };
    return response;
  },
};

export default echoApp;
