"""WSGI apps that push on ferry's bounds (standard library only): output without newlines, a huge
response head, an app busy in a loop, and logging at every level."""

import logging
import os
import sys
import tempfile
import time
import urllib.parse

log = logging.getLogger("hardening")
log.setLevel(logging.DEBUG)
log.addHandler(logging.StreamHandler())  # to stderr, as an app's own handler would be


def _text(start_response, body, status="200 OK", headers=()):
    out = body.encode()
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(out)))] + list(headers))
    return [out]


def app(environ, start_response):
    path = environ["PATH_INFO"]
    query = environ.get("QUERY_STRING", "")
    if path == "/noline":
        # /noline?MIB or /noline?MIB&RELEASE: after MIB MiB without a newline, the line stays open
        # until the file RELEASE exists (at most 5 s), so a test knows this request is still
        # running while it sends others.
        mib, _, release = query.partition("&")
        mib = int(mib or "1")
        piece = "x" * 65536
        for _ in range(mib * 16):
            sys.stdout.write(piece)
        sys.stdout.flush()
        if release:
            release = urllib.parse.unquote(release)
            for _ in range(500):
                if os.path.exists(release):
                    break
                time.sleep(0.01)
        sys.stdout.write("\nend of the long output\n")
        sys.stdout.flush()
        return _text(start_response, "wrote %d MiB" % mib)
    if path == "/bighead":
        return _text(start_response, "big", headers=[("X-Big", "h" * int(query))])
    if path == "/pid":
        return _text(start_response, str(os.getpid()))
    if path == "/spin":
        environ["wsgi.input"].read(1)
        open(os.path.join(tempfile.gettempdir(), "spinning"), "w").close()  # the test waits for it
        while True:
            pass
    if path == "/levels":
        log.debug("a debug line")
        log.info("an info line")
        log.warning("a warning line")
        log.error("an error line\nwith a second line")
        print("plain stderr line", file=sys.stderr, flush=True)
        return _text(start_response, "logged")
    return _text(start_response, "not here", "404 Not Found")
