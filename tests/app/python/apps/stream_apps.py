"""Apps for --wsgi-timeout as "stuck" (issue 34): streams longer than the timeout, apps gone silent,
and a lifespan startup that never completes."""

import asyncio
import time
from urllib.parse import parse_qs


def _query(raw):
    q = parse_qs(raw)
    return int(q.get("n", ["10"])[0]), float(q.get("every", ["0.3"])[0])


async def asgi_app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            m = await receive()
            if m["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif m["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    if path == "/sse":
        n, every = _query(scope["query_string"].decode())
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")]})
        for i in range(n):
            await send({"type": "http.response.body", "body": b"data: %d\n\n" % i, "more_body": True})
            await asyncio.sleep(every)
        await send({"type": "http.response.body", "body": b"data: end\n\n"})
        return
    if path == "/silent-after-head":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")]})
        await send({"type": "http.response.body", "body": b"data: 0\n\n", "more_body": True})
        await asyncio.sleep(3600)
        return
    if path == "/silent":
        await asyncio.sleep(3600)
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def wsgi_app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/sse":
        n, every = _query(environ.get("QUERY_STRING", ""))
        start_response("200 OK", [("Content-Type", "text/event-stream")])

        def events():
            for i in range(n):
                yield b"data: %d\n\n" % i
                time.sleep(every)
            yield b"data: end\n\n"
        return events()
    if path == "/silent-after-head":
        start_response("200 OK", [("Content-Type", "text/event-stream")])

        def stall():
            yield b"data: 0\n\n"
            time.sleep(3600)
        return stall()
    if path == "/silent":
        time.sleep(3600)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


async def hanging_startup(scope, receive, send):
    """Never completes its lifespan startup."""
    if scope["type"] == "lifespan":
        await receive()
        await asyncio.sleep(3600)
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
