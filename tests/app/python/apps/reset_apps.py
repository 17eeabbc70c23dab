"""Apps for the client-reset tests (issue 34): slow answers and bodies a client leaves halfway."""

import asyncio
import os
import time


async def _respond(send, body):
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})


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
    if path == "/slow":
        await asyncio.sleep(0.2)
        return await _respond(send, b"slow")
    if path == "/body":
        n = 0
        while True:
            m = await receive()
            if m["type"] == "http.disconnect":
                break
            n += len(m.get("body", b""))
            if not m.get("more_body"):
                break
        return await _respond(send, str(n).encode())
    if path == "/pid":
        return await _respond(send, str(os.getpid()).encode())
    if path == "/crash":
        os._exit(9)
    await _respond(send, b"ok")


def wsgi_app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/slow":
        time.sleep(0.2)
        body = b"slow"
    elif path == "/body":
        body = str(len(environ["wsgi.input"].read())).encode()
    elif path == "/pid":
        body = str(os.getpid()).encode()
    else:
        body = b"ok"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
