"""Plain WSGI apps for ferry's gateway tests (standard library only)."""

import json
import os
import sys
import time
import warnings
from wsgiref.validate import validator

warnings.simplefilter("error")  # a PEP 3333 slip the validator warns about fails the request


def _echo(environ, start_response):
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    keys = {k: v for k, v in environ.items() if isinstance(v, str)}
    out = json.dumps({
        "environ": keys,
        "version": list(environ["wsgi.version"]),
        "multithread": environ["wsgi.multithread"],
        "multiprocess": environ["wsgi.multiprocess"],
        "run_once": environ["wsgi.run_once"],
        "input_terminated": environ.get("wsgi.input_terminated"),
        "body": body.decode("latin-1"),
        "pid": os.getpid(),
    }).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(out)))])
    return [out]


def _input(environ, start_response):
    """Reads wsgi.input every way PEP 3333 allows and reports what each gave."""
    stream = environ["wsgi.input"]
    first = stream.readline(5)
    line = stream.readline()
    rest = stream.readlines()
    tail = stream.read()
    out = json.dumps([first.decode(), line.decode(), [r.decode() for r in rest], tail.decode()]).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [out]


def _stream(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    for i in range(5):
        yield ("part %d\n" % i).encode()


def _write(environ, start_response):
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"written ")
    return [b"returned"]


def _big(environ, start_response):
    """50 MiB streamed in 64 KiB pieces."""
    piece = b"x" * 65536
    n = int(environ.get("QUERY_STRING") or 800)
    start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(n * 65536))])
    for _ in range(n):
        yield piece


def _file(environ, start_response):
    f = open(__file__, "rb")
    f.seek(3)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return environ["wsgi.file_wrapper"](f, 1024)


def _hop(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Connection", "keep-alive"), ("Keep-Alive", "timeout=5")])
    return [b"hop"]


def _short(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "10")])
    return [b"12345"]


def _long(environ, start_response):
    """Declares 3 bytes, sends 10: ferry must send 3 and close."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
    return [b"0123456789"]


def _endless(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return _Endless(environ["PATH_INFO"])


def _print(environ, start_response):
    print("hello from the app")
    sys.stderr.write("to stderr\n")
    environ["wsgi.errors"].write("to wsgi.errors\n")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"printed"]


def _boom(environ, start_response):
    raise RuntimeError("the app failed on purpose")


def _boom_late(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"first "
    raise RuntimeError("the app failed after its head")


def _crash(environ, start_response):
    os._exit(9)


def _sleep_crash(environ, start_response):
    # Dies once the file named by the query exists (the test makes it when it is ready), or at
    # once without one; 10 s at most.
    marker = environ.get("QUERY_STRING", "")
    deadline = time.time() + 10
    while marker and not os.path.exists(marker) and time.time() < deadline:
        time.sleep(0.01)
    os._exit(9)


def _crash_late(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"partial"
    os._exit(9)


def sleepy_function_for_the_stack(seconds):
    time.sleep(seconds)


def _sleep(environ, start_response):
    sleepy_function_for_the_stack(float(environ.get("QUERY_STRING") or 30))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"slept"]


def _pid(environ, start_response):
    out = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(out)))])
    return [out]


class _Closing:
    """An iterable whose close() is recorded (PEP 3333: always called)."""

    closed = []

    def __init__(self, path):
        self.path = path

    def __iter__(self):
        yield b"closing"

    def close(self):
        _Closing.closed.append(self.path)


class _Endless(_Closing):
    """A long stream whose close() is recorded: the client goes away in the middle."""

    def __iter__(self):
        piece = b"y" * 65536
        for _ in range(100000):
            yield piece


def _closing(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return _Closing(environ["PATH_INFO"])


def _closed(environ, start_response):
    out = json.dumps(_Closing.closed).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [out]


ROUTES = {
    "/echo": _echo,
    "/input": _input,
    "/stream": _stream,
    "/write": _write,
    "/big": _big,
    "/file": _file,
    "/hop": _hop,
    "/short": _short,
    "/print": _print,
    "/long": _long,
    "/endless": _endless,
    "/boom": _boom,
    "/boom-late": _boom_late,
    "/crash": _crash,
    "/crash-late": _crash_late,
    "/sleep-crash": _sleep_crash,
    "/sleep": _sleep,
    "/pid": _pid,
    "/closing": _closing,
    "/closed": _closed,
}


def app(environ, start_response):
    route = ROUTES.get(environ["PATH_INFO"])
    if route is None:
        route = _echo
    return route(environ, start_response)


validated = validator(app)


def make_app(greeting="made"):
    """A factory, for MODULE:factory()."""

    def made(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [greeting.encode()]

    return made
