/**
 * A small chat: `deno task start --app examples/chat.ts`, then open http://localhost:8080/ in two
 * browser tabs. The page talks to `/ws` over a WebSocket; every message is sent to everyone in
 * the room. Written as a `deno serve` app with `Deno.upgradeWebSocket`, unchanged for ferry.
 *
 * @module
 */

const room = new Set<WebSocket>();

const PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>ferry chat</title>
<style>
  body { font: 16px system-ui, sans-serif; max-width: 40em; margin: 2em auto; }
  #log { list-style: none; padding: 0; min-height: 10em; border: 1px solid #ccc; }
  #log li { padding: .2em .5em; }
  #status { color: #666; }
</style>
<h1>ferry chat</h1>
<p id="status">connecting…</p>
<ul id="log"></ul>
<form id="say"><input id="text" autocomplete="off" placeholder="say something" autofocus>
<button>Send</button></form>
<script>
  const log = document.getElementById("log");
  const status = document.getElementById("status");
  const ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/ws");
  ws.onopen = () => status.textContent = "connected";
  ws.onclose = (e) => status.textContent = "disconnected (" + e.code + ")";
  ws.onmessage = (e) => {
    const { from, text } = JSON.parse(e.data);
    const li = document.createElement("li");
    li.textContent = from + ": " + text;
    log.append(li);
  };
  document.getElementById("say").onsubmit = (e) => {
    e.preventDefault();
    const input = document.getElementById("text");
    if (input.value !== "") ws.send(input.value);
    input.value = "";
  };
</script>
`;

let nextGuest = 1;

/** The chat app. */
const chat = {
  fetch(request: Request): Response {
    const url = new URL(request.url);
    if (url.pathname === "/ws") {
      const { socket, response } = Deno.upgradeWebSocket(request);
      const name = `guest ${nextGuest++}`;
      socket.onopen = () => room.add(socket);
      socket.onclose = () => room.delete(socket);
      socket.onmessage = (e) => {
        const line = JSON.stringify({ from: name, text: String(e.data).slice(0, 1000) });
        for (const peer of room) if (peer.readyState === WebSocket.OPEN) peer.send(line);
      };
      return response;
    }
    if (url.pathname === "/") {
      return new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
    }
    return new Response("not found\n", { status: 404 });
  },
};

export default chat;
