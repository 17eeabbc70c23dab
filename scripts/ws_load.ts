/**
 * A WebSocket load generator for `deno task bench`: `connections` sockets, each keeping `window`
 * echo messages of `size` bytes in flight for `duration` seconds; prints the echoed messages per
 * second as JSON. Run: `deno run -A scripts/ws_load.ts URL CONNECTIONS DURATION [WINDOW SIZE]`.
 *
 * @module
 */

const [url, connectionsArg, durationArg, windowArg, sizeArg] = Deno.args;
const connections = Number(connectionsArg ?? 10);
const duration = Number(durationArg ?? 3);
const window = Number(windowArg ?? 8);
const message = "m".repeat(Number(sizeArg ?? 32));

let echoed = 0;
let counting = false;
const sockets: WebSocket[] = [];
await Promise.all(Array.from({ length: connections }, () =>
  new Promise<void>((ok, fail) => {
    const ws = new WebSocket(url);
    sockets.push(ws);
    ws.onopen = () => {
      for (let i = 0; i < window; i++) ws.send(message);
      ok();
    };
    ws.onerror = () => fail(new Error(`cannot open ${url}`));
    ws.onmessage = () => {
      if (counting) echoed++;
      if (ws.readyState === WebSocket.OPEN) ws.send(message);
    };
  })));
// Half a second of warm-up, then the measured window.
await new Promise((r) => setTimeout(r, 500));
counting = true;
const start = performance.now();
await new Promise((r) => setTimeout(r, duration * 1000));
counting = false;
const seconds = (performance.now() - start) / 1000;
console.log(JSON.stringify({ mps: echoed / seconds }));
for (const ws of sockets) ws.close();
await new Promise((r) => setTimeout(r, 100));
Deno.exit(0);
