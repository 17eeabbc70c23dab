"""Raw ASGI 3 apps for ferry's tests: the scope as JSON, bodies, streaming by order, disconnects,
concurrency marks, failures, timeouts, lifespan and WebSockets."""

import asyncio
import json
import os
import sys
import time

MARKS = []  # ("start" | "end", n) of /sleep requests, in the order they happened
KEPT = []  # memory /grow keeps for the life of the worker


def scope_json(scope):
    out = {}
    for k, v in scope.items():
        if k == "headers":
            out[k] = [[type(n).__name__, n.decode("latin-1"), type(x).__name__, x.decode("latin-1")] for n, x in v]
        elif isinstance(v, bytes):
            out[k] = {"bytes": v.decode("latin-1")}
        elif isinstance(v, tuple):
            out[k] = {"tuple": list(v), "types": [type(x).__name__ for x in v]}
        else:
            out[k] = v
    return out


async def respond(send, status, body, headers=(), content_type=b"text/plain"):
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), *headers]})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive):
    pieces = []
    while True:
        m = await receive()
        assert m["type"] == "http.request", m
        pieces.append(m.get("body", b""))
        if not m.get("more_body", False):
            return pieces


async def sleepy_coroutine_for_the_stack(seconds):
    await asyncio.sleep(seconds)


async def lifespan(scope, receive, send):
    while True:
        m = await receive()
        if m["type"] == "lifespan.startup":
            scope["state"]["greeting"] = "from lifespan"
            await send({"type": "lifespan.startup.complete"})
        elif m["type"] == "lifespan.shutdown":
            marker = os.environ.get("ASGI_SHUTDOWN_MARKER")
            if marker:
                with open(marker, "w") as f:
                    f.write("shutdown ran")
            await send({"type": "lifespan.shutdown.complete"})
            return


async def websocket(scope, receive, send):
    path = scope["path"]
    m = await receive()
    assert m["type"] == "websocket.connect"
    if path == "/ws/deny":
        await send({"type": "websocket.close", "code": 1008})
        return
    if path == "/ws/raise":
        raise RuntimeError("refusing by raising")
    if path == "/ws/hold":
        # Takes nothing until MARKER.go exists, writing the most messages it saw waiting in its
        # worker to MARKER.max meanwhile; then counts what it receives up to "last" into MARKER.
        marker = scope["query_string"].decode()
        await send({"type": "websocket.accept"})
        waiting = receive.__self__.events
        most = 0
        while not os.path.exists(marker + ".go"):
            most = max(most, len(waiting))
            with open(marker + ".max", "w") as f:
                f.write(str(most))
            await asyncio.sleep(0.02)
        count = 0
        while True:
            m = await receive()
            if m["type"] == "websocket.disconnect" or m.get("text") == "last":
                break
            count += 1
        with open(marker, "w") as f:
            f.write(str(count))
        await send({"type": "websocket.close", "code": 1000})
        return
    sub = scope["subprotocols"][-1] if scope["subprotocols"] else None
    await send({"type": "websocket.accept", "subprotocol": sub, "headers": [(b"x-accepted", b"yes")]})
    while True:
        m = await receive()
        if m["type"] == "websocket.disconnect":
            marker = scope["query_string"].decode()
            if marker:
                with open(marker, "w") as f:
                    f.write("disconnect %d" % m["code"])
            return
        if m.get("text") == "close-me":
            await send({"type": "websocket.close", "code": 4001, "reason": "asked to"})
            continue
        if m.get("text") == "scope":
            await send({"type": "websocket.send", "text": json.dumps(scope_json(scope))})
            continue
        if m.get("text") is not None:
            await send({"type": "websocket.send", "text": "echo: " + m["text"]})
        else:
            await send({"type": "websocket.send", "bytes": b"echo: " + m["bytes"]})


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        return await lifespan(scope, receive, send)
    if scope["type"] == "websocket":
        return await websocket(scope, receive, send)
    path = scope["path"]
    if path.startswith("/scope"):
        pieces = await read_body(receive)
        return await respond(send, 200, json.dumps({"scope": scope_json(scope), "pieces": len(pieces),
                                                    "body": b"".join(pieces).decode("latin-1")}).encode(),
                             content_type=b"application/json")
    if path == "/body":
        pieces = await read_body(receive)
        body = b"".join(pieces)
        return await respond(send, 200, json.dumps({"length": len(body), "pieces": len(pieces),
                                                    "sum": sum(body)}).encode())
    if path == "/stream":
        # Pieces by order: the second waits for a file the test writes after it saw the first.
        gate = scope["query_string"].decode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"first;", "more_body": True})
        while not os.path.exists(gate):
            await asyncio.sleep(0.02)
        await send({"type": "http.response.body", "body": b"second;", "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    if path == "/disconnect":
        # Streams until the client leaves, then records the http.disconnect it received.
        marker = scope["query_string"].decode()
        await read_body(receive)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        waiter = asyncio.ensure_future(receive())
        while not waiter.done():
            await send({"type": "http.response.body", "body": b"x" * 1024, "more_body": True})
            await asyncio.sleep(0.02)
        with open(marker, "w") as f:
            f.write(waiter.result()["type"])
        return
    if path == "/long-poll":
        # Silent after the body: waits in receive() and records what it gets (the client leaves).
        marker = scope["query_string"].decode()
        await read_body(receive)
        with open(marker + ".waiting", "w") as f:
            f.write("waiting")
        m = await receive()
        with open(marker, "w") as f:
            f.write(m["type"])
        return
    if path == "/trailer-section":
        # A chunked body, then trailers in two messages (one a field no trailer may carry).
        await read_body(receive)
        await send({"type": "http.response.start", "status": 200, "trailers": True,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"body;", "more_body": True})
        await send({"type": "http.response.body", "body": b"end", "more_body": False})
        await send({"type": "http.response.trailers", "headers": [(b"x-checksum", b"abc123")], "more_trailers": True})
        await send({"type": "http.response.trailers", "headers": [(b"content-type", b"x/y"), (b"x-count", b"2")],
                    "more_trailers": False})
        return
    if path == "/after":
        # The response is complete at more_body False; what follows runs after it (BackgroundTasks).
        marker = scope["query_string"].decode()
        await read_body(receive)
        await respond(send, 200, b"done")
        m = await receive()
        await asyncio.sleep(0.2)
        with open(marker, "w") as f:
            f.write("after:" + m["type"])
        return
    if path == "/sleep":
        n = scope["query_string"].decode()
        MARKS.append(("start", n))
        await asyncio.sleep(1)
        MARKS.append(("end", n))
        return await respond(send, 200, n.encode())
    if path == "/marks":
        return await respond(send, 200, json.dumps(MARKS).encode())
    if path == "/grow":
        # Keeps ?mb=N more MiB of touched memory for the life of the worker; answers its pid.
        KEPT.append(bytearray(int(scope["query_string"].decode() or "0") * 1024 * 1024))
        for block in KEPT:
            for i in range(0, len(block), 4096):
                block[i] = 1
        return await respond(send, 200, str(os.getpid()).encode())
    if path == "/spin":
        # Blocks the worker's loop for ever (only its watchdog thread still runs), after saying so.
        with open(scope["query_string"].decode(), "w") as f:
            f.write("spinning")
        while True:
            pass
    if path == "/pid":
        return await respond(send, 200, str(os.getpid()).encode())
    if path == "/raise":
        raise ValueError("boom before the start")
    if path == "/raise-late":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise ValueError("boom after the start")
    if path == "/raise-after":
        # As Starlette's ServerErrorMiddleware does: the 500 is sent, then the exception re-raised.
        await respond(send, 500, b"Internal Server Error")
        raise ValueError("boom after the response")
    if path == "/no-response":
        return
    if path == "/crash":
        os._exit(9)
    if path == "/timeout":
        await sleepy_coroutine_for_the_stack(30)
        return await respond(send, 200, b"late")
    if path == "/block":
        time.sleep(30)  # blocks the loop: cancelling cannot help
        return await respond(send, 200, b"late")
    if path == "/trailers":
        await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": True})
        await send({"type": "http.response.body", "body": b"with trailers"})
        await send({"type": "http.response.trailers", "headers": [(b"x-checksum", b"1")]})
        return
    if path == "/big":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(4096):
            await send({"type": "http.response.body", "body": b"y" * 65536, "more_body": True})
        MARKS.append(("big", "sent"))
        await send({"type": "http.response.body", "body": b""})
        return
    await respond(send, 404, b"not found")


class Legacy:
    """An ASGI 2 double callable."""

    def __init__(self, scope):
        self.scope = scope

    async def __call__(self, receive, send):
        if self.scope["type"] != "http":
            raise RuntimeError("http only")
        await respond(send, 200, b"asgi2 " + self.scope["path"].encode())


async def failing_startup(scope, receive, send):
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "the database is not there"})
        return
    await respond(send, 200, b"never")


async def no_lifespan(scope, receive, send):
    if scope["type"] != "http":
        raise RuntimeError("only http")
    await respond(send, 200, b"served without lifespan")


def make_app(greeting):
    async def made(scope, receive, send):
        if scope["type"] != "http":
            raise RuntimeError("only http")
        await respond(send, 200, greeting.encode())
    return made
