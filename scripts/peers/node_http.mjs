// The node:http peer for `deno task bench`: answers what ferry's example app answers on /hello.
// Run: `node scripts/peers/node_http.mjs PORT`.
import http from "node:http";

const port = Number(process.argv[2] ?? 8082);
const body = "Hello, World!";
http.createServer((req, res) => {
  if (req.method === "PUT" || req.method === "POST") {
    let n = 0;
    req.on("data", (c) => n += c.length);
    req.on("end", () => {
      res.writeHead(201, { "content-type": "text/plain" });
      res.end(`${n}\n`);
    });
    return;
  }
  res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "content-length": body.length });
  res.end(body);
}).listen(port, "127.0.0.1", () => console.log(`node-http listening on ${port}`));
