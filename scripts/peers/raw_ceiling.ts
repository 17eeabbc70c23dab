/**
 * The ceiling for `deno task bench`: the least any server on `Deno.listen` / `Deno.listenTls` can
 * do. It parses nothing: it counts the ends of request heads (`\r\n\r\n`, across reads) and
 * answers each with a constant response the size of ferry's hello (or, for `/static/…`, of a 4 KiB
 * file with ferry's static headers), one write per read. What it
 * reaches against Deno.serve bounds what ferry, or any server reading sockets from JavaScript,
 * can reach here. Run: `deno run -A scripts/peers/raw_ceiling.ts HTTP_PORT [HTTPS_PORT DIR]`
 * (DIR holds cert.pem and key.pem).
 *
 * @module
 */

const RESPONSE = new TextEncoder().encode(
  "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nX-Request-Id: 00000000-0000\r\n" +
    "Date: Sat, 21 Nov 2026 00:00:00 GMT\r\nServer: ferry\r\nContent-Length: 13\r\n\r\nHello, World!",
);

/**
 * The constant for a static 4 KiB file (`GET /static/…`, told apart by the byte after `GET /`): a
 * head of the size ferry's static module writes and 4096 bytes.
 */
const FILE_RESPONSE = (() => {
  const head = new TextEncoder().encode(
    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nX-Content-Type-Options: nosniff\r\n" +
      'Accept-Ranges: bytes\r\nETag: "1000-19a2b3c4d5e"\r\nLast-Modified: Sat, 21 Nov 2026 00:00:00 GMT\r\n' +
      "X-Request-Id: 00000000-0000\r\nDate: Sat, 21 Nov 2026 00:00:00 GMT\r\nServer: ferry\r\n" +
      "Content-Length: 4096\r\n\r\n",
  );
  const out = new Uint8Array(head.length + 4096);
  out.set(head);
  out.fill(0x2a, head.length);
  return out;
})();

/** Counts the request heads that end in `buf[0..n)`; `state.matched` carries a partial `\r\n\r\n`. */
function countHeads(buf: Uint8Array, n: number, state: { matched: number; heads: number }): void {
  let m = state.matched;
  for (let i = 0; i < n; i++) {
    const b = buf[i];
    if (b === 0x0d) m = m === 2 ? 3 : 1;
    else if (b === 0x0a && (m === 1 || m === 3)) {
      if (m === 3) {
        state.heads++;
        m = 0;
      } else m = 2;
    } else m = 0;
  }
  state.matched = m;
}

async function serve(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  let out = new Uint8Array(FILE_RESPONSE.length * 16);
  const state = { matched: 0, heads: 0 };
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      state.heads = 0;
      countHeads(buf, n, state);
      if (state.heads === 0) continue;
      const response = buf[5] === 0x73 ? FILE_RESPONSE : RESPONSE; // "GET /s…"
      const size = state.heads * response.length;
      if (size > out.length) out = new Uint8Array(size);
      for (let k = 0; k < state.heads; k++) out.set(response, k * response.length);
      let off = 0;
      while (off < size) off += await conn.write(out.subarray(off, size));
    }
  } catch {
    // the client went away
  }
  try {
    conn.close();
  } catch {
    // already closed
  }
}

async function accept(listener: Deno.Listener): Promise<void> {
  for await (const conn of listener) serve(conn);
}

const [httpPort, httpsPort, dir] = Deno.args;
const listeners: Deno.Listener[] = [Deno.listen({ hostname: "127.0.0.1", port: Number(httpPort ?? 8084) })];
if (httpsPort && dir) {
  listeners.push(Deno.listenTls({
    hostname: "127.0.0.1",
    port: Number(httpsPort),
    cert: Deno.readTextFileSync(`${dir}/cert.pem`),
    key: Deno.readTextFileSync(`${dir}/key.pem`),
  }));
}
const stop = () => Deno.exit(0);
Deno.addSignalListener("SIGTERM", stop);
Deno.addSignalListener("SIGINT", stop);
await Promise.all(listeners.map(accept));
