/**
 * `--static PREFIX=DIR` (repeatable), with ferry started as users start it: each root is served at
 * its prefix, one at `/static/` takes that prefix over from the sample site, and a bad value or a
 * missing directory exits 2 naming the flag.
 */

import assert from "assert";
import { join } from "path";
import { runFerry, startChild } from "../helpers/server.ts";
import { parseStaticMount } from "../../src/static_mount.ts";
import { APPS, PYTHON, pythonHas } from "../helpers/python.ts";
import { presentOrSkip } from "../helpers/skip.ts";
import { needs } from "../helpers/needs.ts";

const BASE = ["--port", "0", "--no-https", "--log-format", "none"];

Deno.test(
  "static mounts: each --static root at its prefix, before the sample site",
  needs("read", "write", "run"),
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.mkdir(join(dir, "collected", "admin", "css"), { recursive: true });
      await Deno.writeTextFile(join(dir, "collected", "admin", "css", "base.css"), "body { margin: 0 }\n");
      await Deno.mkdir(join(dir, "media"));
      await Deno.writeTextFile(join(dir, "media", "photo.txt"), "a photo\n");
      await using child = await startChild([
        ...BASE,
        "--static",
        `/static/=${join(dir, "collected")}`,
        "--static",
        `/media/=${join(dir, "media")}`,
      ]);
      const get = (path: string) => fetch(`${child.urls[0]}${path.slice(1)}`);
      const css = await get("/static/admin/css/base.css");
      assert.equal(css.status, 200);
      assert.match(css.headers.get("content-type") ?? "", /^text\/css/);
      assert.equal(await css.text(), "body { margin: 0 }\n");
      assert.equal(await (await get("/media/photo.txt")).text(), "a photo\n");
      // The sample site's /static/index.html is not under the collected root: its prefix is taken.
      const sample = await get("/static/index.html");
      assert.equal(sample.status, 404);
      await sample.body?.cancel();
      const hello = await get("/hello");
      assert.equal(await hello.text(), "Hello, World!");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "static mounts: a malformed --static or a missing directory exits 2 naming the flag",
  needs("read", "write", "run"),
  async () => {
    const bad = await runFerry([...BASE, "--static", "static=./x"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--static/);
    assert.match(bad.stderr, /PREFIX=DIR/);
    const missing = await runFerry([...BASE, "--static", "/assets/=/no/such/dir"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--static \/assets\/=\/no\/such\/dir cannot be read/);
    assert.deepEqual(parseStaticMount("/a/=b=c"), { prefix: "/a/", dir: "b=c" });
    assert.throws(() => parseStaticMount("/a/="), /directory after =/);
  },
);

const DJANGO_SETTINGS = `
from pathlib import Path
BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "test"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "site_urls"
INSTALLED_APPS = ["django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
                  "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles"]
DATABASES = {}
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticroot"
`;
const DJANGO_URLS = `
from django.http import HttpResponse
from django.urls import path
urlpatterns = [path("", lambda request: HttpResponse("django home"))]
`;
const DJANGO_WSGI = `
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_settings")
from django.core.wsgi import get_wsgi_application
application = get_wsgi_application()
`;

if (presentOrSkip(pythonHas("django"), "static mounts: Django recipe: /usr/bin/python3 has no django")) {
  Deno.test("static mounts: the README's Django recipe (collectstatic, --static /static/=./staticroot)", async () => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(join(dir, "site_settings.py"), DJANGO_SETTINGS);
      await Deno.writeTextFile(join(dir, "site_urls.py"), DJANGO_URLS);
      await Deno.writeTextFile(join(dir, "site_wsgi.py"), DJANGO_WSGI);
      const collect = await new Deno.Command(PYTHON, {
        args: ["-m", "django", "collectstatic", "--noinput", "--settings", "site_settings"],
        cwd: dir,
        env: { PYTHONPATH: dir },
      }).output();
      assert.ok(collect.success, new TextDecoder().decode(collect.stderr));
      await using child = await startChild(
        [
          ...BASE,
          "--wsgi",
          "site_wsgi:application",
          "--wsgi-python",
          PYTHON,
          "--wsgi-workers",
          "1",
          "--static",
          "/static/=./staticroot",
        ],
        1,
        dir,
      );
      const css = await fetch(`${child.urls[0]}static/admin/css/base.css`);
      assert.equal(css.status, 200);
      assert.match(css.headers.get("content-type") ?? "", /^text\/css/);
      assert.match(await css.text(), /\{/);
      assert.equal(await (await fetch(child.urls[0])).text(), "django home");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test(
  "static mounts: beside an app and without --root, /static/ is the app's (the sample site is not mounted)",
  needs("read", "write", "run"),
  async () => {
    await using child = await startChild([
      ...BASE,
      "--wsgi",
      "plain_apps:app",
      "--wsgi-python",
      PYTHON,
      "--wsgi-chdir",
      APPS,
      "--wsgi-workers",
      "1",
    ]);
    const res = await fetch(`${child.urls[0]}static/flask-style.css`);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).environ.PATH_INFO, "/static/flask-style.css");
    assert.match(child.stdout(), /root none/);
  },
);
