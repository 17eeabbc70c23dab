"""A WSGI app for --wsgi-threads: slow requests that record when they start and end."""

import json
import threading
import time

MARKS = []
LOCK = threading.Lock()


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/big":
        # ?N MiB in 64 KiB pieces: far past the credit window, so the thread waits for credit.
        mib = int(environ["QUERY_STRING"] or "1")
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("Content-Length", str(mib * 1024 * 1024))])
        piece = b"x" * 65536
        return (piece for _ in range(mib * 16))
    if path == "/slow":
        with LOCK:
            MARKS.append(["start", environ["QUERY_STRING"]])
        time.sleep(1)  # waits like a database call: the GIL is free meanwhile
        with LOCK:
            MARKS.append(["end", environ["QUERY_STRING"]])
        body = json.dumps({"multithread": environ["wsgi.multithread"], "thread": threading.get_ident()})
    else:
        with LOCK:
            body = json.dumps(MARKS)
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body.encode()]
