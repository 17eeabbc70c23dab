/**
 * Responses from the CA are read with a bound (`src/acme/bounded_read.ts`): up to 1 MiB whole,
 * past it an error naming the URL and the size, whether Content-Length says so or the body runs on.
 */

import assert from "assert";
import { AcmeResponseTooLarge, MAX_ACME_RESPONSE_BYTES, readBounded } from "../../src/acme/bounded_read.ts";

const url = "https://ca.test/order/1";

Deno.test("bounded read: a body up to 1 MiB is read whole", async () => {
  const body = "x".repeat(MAX_ACME_RESPONSE_BYTES);
  assert.equal(await readBounded(new Response(body), url), body);
});

Deno.test("bounded read: past 1 MiB, by Content-Length or by what arrives, an error names the URL and size", async () => {
  const declared = new Response("{}", { headers: { "content-length": String(300 * 1024 * 1024) } });
  await assert.rejects(
    readBounded(declared, url),
    (e: Error) =>
      e instanceof AcmeResponseTooLarge &&
      /at https:\/\/ca\.test\/order\/1 is 314572800 bytes/.test(e.message),
  );
  let pulled = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(c) {
      pulled++;
      c.enqueue(new Uint8Array(65536));
    },
  });
  await assert.rejects(
    readBounded(new Response(endless), url),
    (e: Error) => /is more than 1048576 bytes/.test(e.message),
  );
  assert.ok(pulled <= 20, `read ${pulled} pieces of 64 KiB`);
});
