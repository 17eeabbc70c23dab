/**
 * A minimal Django project (Debian's python3-django, under /usr/bin/python3) behind ferry: a view,
 * request.body (Django reads only CONTENT_LENGTH), a multipart upload, StreamingHttpResponse,
 * FileResponse, a non-ASCII path, and proof that close() ran (the request_finished signal).
 */

import assert from "assert";
import { exchange, text } from "../../helpers/client.ts";
import { APPS, pythonHas, startWsgi } from "../../helpers/python.ts";
import { join } from "../../helpers/paths.ts";
import { ROOT } from "../../helpers/server.ts";
import { presentOrSkip } from "../../helpers/skip.ts";

const DJANGO = presentOrSkip(
  pythonHas("django"),
  "Django is missing: apt-get install python3-django (.ci/run does)",
);

Deno.test(
  { name: "django: a view, request.body of a chunked POST, a multipart upload", ignore: !DJANGO },
  async () => {
    await using s = await startWsgi("django_app:application");
    const base = `http://127.0.0.1:${s.port}`;
    assert.equal(await (await fetch(`${base}/`)).text(), "django says hello");
    const chunked = await exchange(
      s.port,
      "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n",
    );
    assert.deepEqual(JSON.parse(text(chunked)), { size: 7, head: "abcdefg", meta: "7" });
    const fd = new FormData();
    fd.append("file", new Blob([new Uint8Array(50_000).fill(0x61)]), "a.txt");
    fd.append("note", "noted");
    const up = await (await fetch(`${base}/upload`, { method: "POST", body: fd })).json();
    assert.deepEqual(up, { name: "a.txt", size: 50_000, note: "noted" });
  },
);

Deno.test({
  name: "django: StreamingHttpResponse, FileResponse, a non-ASCII path, and close() ran",
  ignore: !DJANGO,
}, async () => {
  await using s = await startWsgi("django_app:application");
  const base = `http://127.0.0.1:${s.port}`;
  const stream = await exchange(s.port, "GET /stream HTTP/1.1\r\nHost: t\r\n\r\n");
  assert.equal(stream.chunked, true);
  assert.equal(text(stream), "line 0\nline 1\nline 2\nline 3\n");
  const file = await fetch(`${base}/file`);
  assert.equal(await file.text(), await Deno.readTextFile(join(APPS, "plain_apps.py")));
  const uni = await (await fetch(`${base}/u/caf%C3%A9-%E2%82%AC`)).json();
  assert.deepEqual(uni, { name: "café-€", path: "/u/café-€" });
  const finished = async () => (await (await fetch(`${base}/finished`)).json()).finished as number;
  const before = await finished();
  assert.equal(await (await fetch(`${base}/`)).text(), "django says hello");
  // The /finished request itself also finishes: +1 for "/" and +1 for the first /finished.
  assert.equal(await finished(), before + 2);
});

Deno.test(
  { name: "django: the example project in examples/python serves its views", ignore: !DJANGO },
  async () => {
    await using s = await startWsgi("mysite.wsgi:application", {
      workers: 1,
      chdir: join(ROOT, "examples", "python"),
    });
    assert.equal(
      await (await fetch(`http://127.0.0.1:${s.port}/`)).text(),
      "Hello from Django, served by ferry\n",
    );
    const echo = await (await fetch(`http://127.0.0.1:${s.port}/echo`, { method: "POST", body: "abc" }))
      .json();
    assert.deepEqual(echo, { size: 3, method: "POST" });
  },
);
