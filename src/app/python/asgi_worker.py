"""ferry's Python ASGI 3.0 worker: an asyncio loop (uvloop when importable) serving many requests
at once, one frame stream each, standard library only.

ferry starts one of these per worker process, beside its WSGI worker (ferry_wsgi_worker.py), whose
way of loading the app ("module:callable" or "module:factory(...)") it shares. It connects to the
Unix domain socket named by FERRY_WSGI_SOCKET, proves itself with FERRY_WSGI_TOKEN, imports the
app, runs its lifespan startup (FERRY_ASGI_LIFESPAN: auto, on or off), then serves. ferry owns the
client connection, parses HTTP and WebSocket, and limits how many requests one worker takes.

Frames, both ways: a 9-byte header (type u8, stream id u32, payload length u32, big-endian), then
the payload (see frames.ts).
"""

import asyncio
import faulthandler
import inspect
import os
import signal
import socket
import sys
import traceback
from collections import deque
from urllib.parse import unquote

from ferry_protocol import (BODY, BODY_ACK, CANCEL, CREDIT, DATA, END, ERROR, HEAD, HEADER, HEADER_SIZE, HELLO,
                            IMPORT_ERROR, LOG, PIECE, READY, REQUEST, RESPONSE, STARTUP_FAILED, TRAILERS, U16, U32,
                            WS_ACCEPT, WS_CLOSE, WS_CLOSED, WS_MESSAGE, WS_SEND, HeadCache, decode_request,
                            frame, strings)
from ferry_wsgi_worker import REPORT_RSS, Stop, guard_process, load, rss_report

# The request's flags, beside its scope (frames.ts: ASGI_MORE_BODY, ASGI_UNQUOTE)
MORE_BODY, UNQUOTE = 1, 2


class ClientDisconnected(OSError):
    """send() on a WebSocket whose client has gone."""


def coro_stack(coro):
    """Where a suspended coroutine waits, outermost first: its chain of awaited coroutines."""
    frames = []
    while coro is not None:
        frame_ = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame_ is not None:
            frames.append((frame_, frame_.f_lineno))
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    return "".join(traceback.StackSummary.extract(frames).format())


def as_asgi3(app):
    """The app as an ASGI 3 single callable: an ASGI 2 double callable is wrapped (as uvicorn
    decides: a class without __await__, or a callable whose call is not a coroutine function)."""
    if inspect.isclass(app):
        asgi3 = hasattr(app, "__await__")
    elif inspect.isfunction(app):
        asgi3 = asyncio.iscoroutinefunction(app)
    else:
        asgi3 = asyncio.iscoroutinefunction(getattr(app, "__call__", None))
    if asgi3:
        return app

    async def asgi2(scope, receive, send):
        instance = app(scope)
        await instance(receive, send)

    return asgi2


class Cycle:
    """What an HTTP and a WebSocket request share: the stream, its events and wake-ups, credit."""

    __slots__ = ("w", "sid", "credit", "events", "waiter", "credit_waiter", "task", "coro", "request_id",
                 "done", "disconnected", "timed_out", "closed")

    ws = False

    def __init__(self, w, sid, credit, request_id):
        self.w, self.sid, self.credit, self.request_id = w, sid, credit, request_id
        self.events = deque()
        self.waiter = None
        self.credit_waiter = None
        self.task = None
        self.coro = None
        self.done = self.disconnected = self.timed_out = self.closed = False

    def wake(self):
        f = self.waiter
        if f is not None and not f.done():
            f.set_result(None)

    def wake_credit(self):
        f = self.credit_waiter
        if f is not None and not f.done():
            f.set_result(None)

    def frame(self, kind, payload):
        if kind == CREDIT:
            self.credit += U32.unpack(payload)[0]
            self.wake_credit()
        elif kind == CANCEL:
            if payload[:1] == b"\x01":
                self.timed_out = True
                task = self.task
                if task is not None and not task.done():
                    sys.stderr.write("ferry: request %s timed out; the stack of its task:\n%s" %
                                     (self.request_id, coro_stack(self.coro)))
                    task.cancel()
            self.disconnected = True
            self.wake()
            self.wake_credit()
        else:
            self.event(kind, payload)

    async def _wait(self):
        self.waiter = self.w.loop.create_future()
        try:
            await self.waiter
        finally:
            self.waiter = None

    async def _wait_credit(self):
        self.credit_waiter = self.w.loop.create_future()
        try:
            await self.credit_waiter
        finally:
            self.credit_waiter = None


class HttpCycle(Cycle):
    """One HTTP request: the body pieces ferry sent, the response's state."""

    __slots__ = ("started", "trailers", "head_at")

    def __init__(self, w, sid, credit, request_id):
        Cycle.__init__(self, w, sid, credit, request_id)
        self.started = self.trailers = False
        self.head_at = -1  # where the HEAD frame waits in w.out, while nothing follows it

    def event(self, kind, payload):
        if kind == BODY:
            self.events.append((payload[1:], payload[0] == 1))
            self.wake()

    async def receive(self):
        while True:
            if self.events:
                body, more = self.events.popleft()
                if body:
                    self.w.send(BODY_ACK, self.sid, U32.pack(len(body)))
                return {"type": "http.request", "body": body, "more_body": more}
            if self.disconnected or self.done:
                return {"type": "http.disconnect"}
            await self._wait()

    async def send(self, message):
        kind = message["type"]
        if kind == "http.response.body":
            if not self.started:
                raise RuntimeError("ASGI: http.response.body sent before http.response.start")
            if self.done:
                raise RuntimeError("ASGI: http.response.body sent after the response was complete")
            body = message.get("body", b"")
            more = message.get("more_body", False)
            if self.disconnected:
                return
            if not more and self.w.merge_response(self, body):
                self.done = True
                self.wake()
                return
            if body:
                if len(body) <= self.credit and len(body) <= PIECE:
                    self.credit -= len(body)
                    self.w.send(DATA, self.sid, bytes(body))
                else:
                    await self._data(body)
                if self.disconnected:
                    return
            if not more:
                self.done = True
                if not self.trailers:
                    self.w.send(END, self.sid, rss_report())
                self.wake()
        elif kind == "http.response.start":
            if self.started:
                raise RuntimeError("ASGI: http.response.start sent twice")
            self.started = True
            self.trailers = bool(message.get("trailers", False))
            status = str(message["status"]).encode("ascii")
            if self.disconnected:
                return
            self.w.send(HEAD, self.sid, self.w.heads.encode(status, message.get("headers", ())))
            self.head_at = self.w.mark()
        elif kind == "http.response.trailers":
            if not self.trailers or not self.done:
                raise RuntimeError("ASGI: http.response.trailers without trailers in the start, or before the body")
            if not self.disconnected:
                self.w.send(TRAILERS, self.sid, strings(list(message.get("headers", ()))))
                if not message.get("more_trailers", False):
                    self.w.send(END, self.sid, rss_report())
        else:
            raise RuntimeError("ASGI: unexpected message %r on an http scope" % (kind,))

    async def _data(self, body):
        view = memoryview(body)
        while len(view) > 0:
            while self.credit <= 0:
                if self.disconnected or self.closed:
                    return
                await self._wait_credit()
            n = min(len(view), self.credit, PIECE)
            self.w.send(DATA, self.sid, bytes(view[:n]))
            self.credit -= n
            view = view[n:]


class WebSocketCycle(Cycle):
    """One WebSocket: the client's messages, the accept and close."""

    __slots__ = ("accepted",)

    ws = True

    def __init__(self, w, sid, credit, request_id):
        Cycle.__init__(self, w, sid, credit, request_id)
        self.accepted = False
        self.events.append(("websocket.connect", None, None))

    @property
    def started(self):
        return self.accepted

    def event(self, kind, payload):
        if kind == WS_MESSAGE:
            self.events.append(("websocket.receive", payload[1:], payload[0] == 1))
            self.wake()
        elif kind == WS_CLOSED:
            self.events.append(("websocket.disconnect", U16.unpack(payload[:2])[0], None))
            self.closed = True
            self.wake()
            self.wake_credit()

    async def receive(self):
        while True:
            if self.events:
                kind, data, text = self.events.popleft()
                if kind == "websocket.connect":
                    return {"type": kind}
                if kind == "websocket.disconnect":
                    return {"type": kind, "code": data}
                self.w.send(BODY_ACK, self.sid, U32.pack(len(data)))  # ferry reads on past its bound
                if text:
                    return {"type": kind, "text": data.decode("utf-8")}
                return {"type": kind, "bytes": data}
            if self.disconnected:
                return {"type": "websocket.disconnect", "code": 1006}
            await self._wait()

    async def send(self, message):
        kind = message["type"]
        if kind == "websocket.send":
            if not self.accepted:
                raise RuntimeError("ASGI: websocket.send before websocket.accept")
            if self.closed:
                raise ClientDisconnected("the WebSocket is closed")
            text = message.get("text")
            data = text.encode("utf-8") if text is not None else message.get("bytes")
            if data is None:
                raise RuntimeError("ASGI: websocket.send needs text or bytes")
            while self.credit <= 0 and not self.closed:
                await self._wait_credit()
            self.credit -= len(data)
            self.w.send(WS_SEND, self.sid, (b"\x01" if text is not None else b"\x00") + data)
        elif kind == "websocket.accept":
            if self.accepted or self.closed:
                raise RuntimeError("ASGI: websocket.accept sent twice or after close")
            self.accepted = True
            sub = message.get("subprotocol") or ""
            sub = sub.encode("latin-1")
            self.w.send(WS_ACCEPT, self.sid, U32.pack(len(sub)) + sub + strings(list(message.get("headers", ()))))
        elif kind == "websocket.close":
            if self.closed:
                return
            self.closed = True
            code = message.get("code", 1000) or 1000
            reason = (message.get("reason") or "").encode("utf-8")
            self.w.send(WS_CLOSE, self.sid, U16.pack(code) + reason)
        else:
            raise RuntimeError("ASGI: unexpected message %r on a websocket scope" % (kind,))


class Worker(asyncio.Protocol):
    """The link to ferry: frames in (many requests in one read), frames out (collected and written
    once per loop turn, for every request that answered in it)."""

    def __init__(self, app, loop, state):
        self.app, self.loop, self.state = app, loop, state
        self.buf = bytearray()
        self.out = []
        self.flushing = False
        self.flushes = 0
        self.cycles = {}
        self.transport = None
        self.lost = loop.create_future()
        self.heads = HeadCache()

    # asyncio.Protocol
    def connection_made(self, transport):
        self.transport = transport

    def connection_lost(self, exc):
        if not self.lost.done():
            self.lost.set_result(None)

    def data_received(self, data):
        buf = self.buf
        if buf:
            buf += data
        else:
            buf = data  # the common case: whole frames in one read, no copy into the buffer
        pos = 0
        end = len(buf)
        unpack = HEADER.unpack_from
        cycles = self.cycles
        while end - pos >= HEADER_SIZE:
            kind, sid, length = unpack(buf, pos)
            stop = pos + HEADER_SIZE + length
            if stop > end:
                break
            payload = buf[pos + HEADER_SIZE:stop]
            pos = stop
            if kind == REQUEST:
                self.request(sid, payload if buf is data else bytes(payload))
            else:
                c = cycles.get(sid)
                if c is not None:
                    c.frame(kind, bytes(payload))
        if buf is data:
            self.buf = bytearray(data[pos:]) if pos < end else bytearray()
        elif pos:
            del buf[:pos]
        if not self.flushing:
            # Scheduled after the first steps of the tasks just created: the answers of every app
            # that completes without waiting leave in one write in the loop's next turn, not the
            # turn after it.
            self.flushing = True
            self.loop.call_soon(self.flush)

    def send(self, kind, sid, payload=b""):
        self.out.append(HEADER.pack(kind, sid, len(payload)))
        self.out.append(payload)
        if not self.flushing:
            self.flushing = True
            self.loop.call_soon(self.flush)

    def mark(self):
        """Where the frame just sent begins in `out` (valid until the next flush)."""
        return (self.flushes << 32) + len(self.out) - 2

    def merge_response(self, c, body):
        """Turns the HEAD frame `c` just sent, and the whole body that follows it now, into one
        RESPONSE frame (HEAD, DATA and END in one); False (nothing done) when something came
        between, the head has left already, or the body needs more than the credit or a piece."""
        at = c.head_at
        c.head_at = -1
        out = self.out
        if (at < 0 or at >> 32 != self.flushes or (at & 0xFFFFFFFF) + 2 != len(out) or REPORT_RSS or c.trailers
                or len(body) > c.credit or len(body) > PIECE):
            return False
        at &= 0xFFFFFFFF
        head = out[at + 1]
        body = bytes(body)
        c.credit -= len(body)
        out[at], out[at + 1] = HEADER.pack(RESPONSE, c.sid, 4 + len(head) + len(body)), U32.pack(len(head)) + head
        out.append(body)
        return True

    def flush(self):
        self.flushing = False
        self.flushes += 1
        if self.out and self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(self.out))
        self.out = []

    def request(self, sid, payload):
        credit, (scope, request_id, flags), body = decode_request(payload)
        if flags & UNQUOTE:
            scope["path"] = unquote(scope["path"])
        if self.state is not None:
            scope["state"] = self.state.copy()
        if scope["type"] == "websocket":
            c = WebSocketCycle(self, sid, credit, request_id)
        else:
            c = HttpCycle(self, sid, credit, request_id)
            if not flags & MORE_BODY:
                c.events.append((body, False))  # else the body streams in BODY frames
        self.cycles[sid] = c
        self.start(c, self.app(scope, c.receive, c.send))

    def start(self, c, coro):
        """Runs the app in a task of its own. (Its first step cannot run before the task exists:
        anyio and sniffio, under FastAPI's thread pool and Starlette's task groups, need a current
        task from the first line on.)"""
        c.coro = coro
        c.task = self.loop.create_task(self.run(c, coro))

    async def run(self, c, coro):
        try:
            await coro
        except asyncio.CancelledError:
            if not c.timed_out:
                self.forget(c)
                raise
            self.finished(c, None)
        except BaseException as e:
            self.finished(c, e)
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
        else:
            self.finished(c, None)

    def finished(self, c, error):
        """The app's coroutine ended (with `error` when it raised): what ferry is owed is sent."""
        try:
            if error is not None and not isinstance(error, asyncio.CancelledError):
                tb = "".join(traceback.format_exception(type(error), error, error.__traceback__))
                if c.done or c.closed and c.ws:
                    # The response is complete (Starlette re-raises after its 500): one record,
                    # with the request id, at ERROR.
                    self.send(LOG, 0, c.request_id.encode("latin-1") + b"\x00" +
                              ("the ASGI app raised after its response:\n" + tb).encode("utf-8", "replace"))
                else:
                    self.send(ERROR, c.sid, (b"\x01" if c.started else b"\x00") + tb.encode("utf-8", "replace"))
                    c.done = True
            elif error is None and not c.ws and not c.done:
                if c.disconnected and not c.timed_out:
                    self.send(END, c.sid, rss_report())  # the client left: no response is owed
                elif not c.timed_out:
                    why = b"the ASGI app returned without " + (b"completing" if c.started else b"starting") + b" its response"
                    self.send(ERROR, c.sid, (b"\x01" if c.started else b"\x00") + why)
                c.done = True
        finally:
            self.forget(c)

    def forget(self, c):
        """The request's stream is over: a WebSocket or a timed-out request ends it with END."""
        if c.ws or c.timed_out:
            self.send(END, c.sid, rss_report())
        self.cycles.pop(c.sid, None)


class Lifespan:
    """The lifespan scope: startup before serving, shutdown at the end, its state shared."""

    def __init__(self, app, mode):
        self.app, self.mode = app, mode
        self.state = {}
        self.queue = asyncio.Queue()
        self.startup = None
        self.shutdown = None
        self.task = None
        self.supported = True

    async def receive(self):
        return await self.queue.get()

    async def send(self, message):
        kind = message["type"]
        if kind == "lifespan.startup.complete":
            self._settle(self.startup, ("ok", ""))
        elif kind == "lifespan.startup.failed":
            self._settle(self.startup, ("failed", message.get("message", "")))
        elif kind == "lifespan.shutdown.complete":
            self._settle(self.shutdown, ("ok", ""))
        elif kind == "lifespan.shutdown.failed":
            self._settle(self.shutdown, ("failed", message.get("message", "")))

    @staticmethod
    def _settle(fut, value):
        if fut is not None and not fut.done():
            fut.set_result(value)

    async def _run(self):
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}
        try:
            await self.app(scope, self.receive, self.send)
        except BaseException:
            tb = traceback.format_exc()
            self._settle(self.startup, ("raised", tb))
            self._settle(self.shutdown, ("raised", tb))
        else:
            self._settle(self.startup, ("returned", ""))
            self._settle(self.shutdown, ("returned", ""))

    async def start(self):
        """None when the app is ready to serve; the message when startup failed."""
        loop = asyncio.get_running_loop()
        self.startup = loop.create_future()
        self.task = loop.create_task(self._run())
        await self.queue.put({"type": "lifespan.startup"})
        outcome, detail = await self.startup
        if outcome == "ok":
            return None
        if outcome == "failed":
            return detail or "lifespan.startup.failed"
        if self.mode == "auto":
            self.supported = False
            if outcome == "raised":
                print("ferry: the ASGI app does not support lifespan (it raised on the lifespan scope); "
                      "serving without it", file=sys.stderr)
            return None
        if outcome == "raised":
            return detail
        return "the ASGI app returned from the lifespan scope before lifespan.startup.complete"

    async def stop(self):
        if not self.supported or self.task is None or self.task.done():
            return
        self.shutdown = asyncio.get_running_loop().create_future()
        await self.queue.put({"type": "lifespan.shutdown"})
        outcome, detail = await self.shutdown
        if outcome == "failed" or outcome == "raised":
            print("ferry: ASGI lifespan shutdown failed: %s" % detail, file=sys.stderr)


def send_now(sock, kind, payload=b""):
    sock.sendall(frame(kind, 0, payload))


async def serve(sock, app, mode):
    loop = asyncio.get_running_loop()
    lifespan = None
    if mode != "off":
        lifespan = Lifespan(app, mode)
        limit = float(os.environ.get("FERRY_ASGI_STARTUP_TIMEOUT") or 0)
        try:
            failure = await (asyncio.wait_for(lifespan.start(), limit) if limit > 0 else lifespan.start())
        except asyncio.TimeoutError:
            failure = ("ASGI lifespan startup did not complete within %g s "
                       "(raise --asgi-startup-timeout if the app's startup needs longer)" % limit)
        if failure is not None:
            send_now(sock, STARTUP_FAILED, failure.encode("utf-8", "replace"))
            return 3
        if not lifespan.supported:
            lifespan = None
    send_now(sock, READY)
    state = lifespan.state if lifespan is not None else None
    _, worker = await loop.create_unix_connection(lambda: Worker(app, loop, state), sock=sock)
    stop = loop.create_future()

    def on_term():
        Stop.arm()  # as the WSGI worker: past the graceful timeout the process exits
        if not stop.done():
            stop.set_result(None)

    loop.add_signal_handler(signal.SIGTERM, on_term)
    await asyncio.wait([stop, worker.lost], return_when=asyncio.FIRST_COMPLETED)
    # Drain: ferry sends a retiring worker no more requests; those open get the graceful timeout.
    tasks = [c.task for c in worker.cycles.values() if c.task is not None]
    if tasks:
        await asyncio.wait(tasks, timeout=Stop.grace() or 5)
    worker.flush()
    if lifespan is not None:
        await lifespan.stop()
    return 0


def main():
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    guard_process()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ferry decides when its workers stop
    for p in reversed([p for p in os.environ.get("FERRY_WSGI_PATH", "").split(os.pathsep) if p]):
        sys.path.insert(0, p)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(os.environ["FERRY_WSGI_SOCKET"])
    send_now(sock, HELLO, os.environ.pop("FERRY_WSGI_TOKEN").encode() + b" " + str(os.getpid()).encode())
    try:
        app = as_asgi3(load(os.environ["FERRY_WSGI_APP"]))
    except BaseException:
        send_now(sock, IMPORT_ERROR, traceback.format_exc().encode("utf-8", "replace"))
        return 3
    try:
        import uvloop
        loop = uvloop.new_event_loop()
    except ImportError:
        loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(serve(sock, app, os.environ.get("FERRY_ASGI_LIFESPAN", "auto")))
    finally:
        loop.close()


if __name__ == "__main__":
    sys.exit(main())
