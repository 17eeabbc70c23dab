/**
 * A connection's output (`src/net/output.ts`) over a real loopback socket: appended pieces leave
 * together in one write, bytes leave in the order they were appended whoever flushes (buffered
 * and direct writes, flushes issued while one is in flight, 1 MiB that the kernel takes in parts),
 * and a write that failed fails every later flush.
 */

import assert from "assert";
import { Output } from "../../src/net/output.ts";

/** A connected pair on 127.0.0.1: the writer's side and the reader's. */
async function pair(): Promise<
  { writer: Deno.Conn; reader: Deno.Conn; [Symbol.asyncDispose](): Promise<void> }
> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [writer, reader] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port }),
    listener.accept(),
  ]);
  listener.close();
  return {
    writer,
    reader,
    [Symbol.asyncDispose]: () => {
      for (const c of [writer, reader]) {
        try {
          c.close();
        } catch {
          // closed by the test
        }
      }
      return Promise.resolve();
    },
  };
}

/** Reads until `n` bytes have come. */
async function readN(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = await conn.read(out.subarray(got));
    if (r === null) throw new Error(`closed after ${got} of ${n} bytes`);
    got += r;
  }
  return out;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("output: appended pieces leave in one write, in order", async () => {
  await using p = await pair();
  const out = new Output(p.writer);
  out.append(enc.encode("HTTP/1.1 200 OK\r\n"));
  out.appendAscii("Content-Length: ");
  out.appendDecimal(5);
  out.appendAscii("\r\n\r\nhello");
  const pending = out.pending;
  await out.flush();
  assert.equal(out.writes, 1);
  assert.equal(out.bytesWritten, pending);
  assert.equal(
    dec.decode(await readN(p.reader, pending)),
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
  );
  out.release();
});

Deno.test("output: buffered, direct and concurrent writes keep their order; 1 MiB arrives whole", async () => {
  await using p = await pair();
  const out = new Output(p.writer);
  const big = new Uint8Array(1024 * 1024).map((_, i) => i % 251);
  out.appendAscii("head;");
  const direct = out.writeDirect(big); // flushes "head;" first, then writes from `big` itself
  const idle = out.flush(); // nothing buffered: waits for the write in flight
  const total = 5 + big.length + "a;b;".length;
  const reading = readN(p.reader, total);
  await Promise.all([direct, idle]);
  // Two flushes in a row, the second issued while the first is in flight.
  out.appendAscii("a;");
  const first = out.flush();
  out.appendAscii("b;");
  await Promise.all([first, out.flush()]);
  const got = await reading;
  assert.equal(dec.decode(got.subarray(0, 5)), "head;");
  const body = got.subarray(5, 5 + big.length);
  assert.equal(body.findIndex((b, i) => b !== big[i]), -1, "the body arrives byte for byte");
  assert.equal(dec.decode(got.subarray(5 + big.length)), "a;b;");
  assert.equal(out.bytesWritten, total);
  out.release();
});

Deno.test("output: once a write has failed, every later flush fails", async () => {
  await using p = await pair();
  const out = new Output(p.writer);
  p.reader.close();
  let error: unknown;
  // The first writes may still land in the kernel's buffer; the peer's reset fails a later one.
  for (let i = 0; i < 200 && error === undefined; i++) {
    out.append(new Uint8Array(64 * 1024));
    error = await out.flush().then(() => undefined, (e) => e);
  }
  assert.ok(error instanceof Error, "a write failed");
  assert.equal(out.failed, true);
  out.appendAscii("more");
  await assert.rejects(out.flush(), Deno.errors.BrokenPipe);
});
