"""WSGI apps that go step by step, each step waiting for a file the test creates: so that tests
check the order of events (a piece reached the client before the app went on; a stop signal came
while a request was in flight), never their timing. Standard library only."""

import os
import time

GUARD_SECONDS = 60  # a test that never creates the file fails on its own guard long before


def _wait_for(path):
    give_up = time.monotonic() + GUARD_SECONDS
    while not os.path.exists(path) and time.monotonic() < give_up:
        time.sleep(0.01)


def _query(environ):
    return dict(p.split("=", 1) for p in environ.get("QUERY_STRING", "").split("&") if "=" in p)


def _yielded(environ, start_response):
    """Yields a piece, waits for ?go=FILE, yields another."""
    go = _query(environ)["go"]
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"first piece\n"
    _wait_for(go)
    yield b"second piece\n"


def _written(environ, start_response):
    """write()s a piece, waits for ?go=FILE, returns another."""
    go = _query(environ)["go"]
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"first piece\n")
    _wait_for(go)
    return [b"second piece\n"]


def _in_flight(environ, start_response):
    """Creates ?started=FILE, waits for ?go=FILE, then answers 200."""
    q = _query(environ)
    open(q["started"], "w").close()
    _wait_for(q["go"])
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"finished in flight\n"]


KEPT = []


def _grow(environ, start_response):
    """Keeps ?mb= more MiB of touched memory for the life of the worker; answers its pid."""
    KEPT.append(bytearray(int(_query(environ).get("mb", "0")) * 1024 * 1024))
    for block in KEPT:
        for i in range(0, len(block), 4096):
            block[i] = 1
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getpid()).encode()]


ROUTES = {"/yielded": _yielded, "/written": _written, "/in-flight": _in_flight, "/grow": _grow}


def app(environ, start_response):
    route = ROUTES.get(environ["PATH_INFO"])
    if route is None:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"no such step\n"]
    return route(environ, start_response)
