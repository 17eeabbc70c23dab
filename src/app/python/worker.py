"""ferry's Python WSGI worker (PEP 3333), standard library only.

ferry starts one of these per worker process. It connects to the Unix domain socket named by
FERRY_WSGI_SOCKET (in a private 0700 directory), proves itself with FERRY_WSGI_TOKEN, imports
the app named by FERRY_WSGI_APP ("module:callable" or "module:factory(...)"), then serves one
request at a time, or FERRY_WSGI_THREADS at once on as many threads (gunicorn's gthread). ferry
owns the client connection; this process only runs the app.

Frames, both ways: a 9-byte header (type u8, stream id u32, payload length u32, big-endian),
then the payload. The stream id names the request, so that threaded workers can come later.
"""

import collections
import faulthandler
import io
import os
import select
import signal
import socket
import sys
import threading
import time
import traceback

from ferry_protocol import (CANCEL, CREDIT, DATA, END, ERROR, HEAD, HEADER, HELLO, IMPORT_ERROR, LOG, PIECE, READY,
                            REQUEST, U32, HeadCache, decode_request, response, strings)


class Cancelled(Exception):
    """ferry gave up on the request (the client went away)."""


class Link:
    """The framed socket to ferry. Frames collect in `out` until flush(): a small response's
    HEAD, DATA and END leave in one write."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()
        self.out = []
        self.pending = 0
        self.backlog = collections.deque()  # REQUEST frames that arrived while serving another

    def send(self, kind, sid, payload=b""):
        self.out.append(HEADER.pack(kind, sid, len(payload)))
        if payload:
            self.out.append(payload)
        self.pending += HEADER.size + len(payload)
        if self.pending >= PIECE:
            self.flush()

    def send_response(self, sid, head, body):
        """A whole response in one RESPONSE frame (HEAD, DATA and END in one)."""
        self.out.extend(response(sid, head, body))
        self.pending += HEADER.size + 4 + len(head) + len(body)

    def flush(self):
        if self.out:
            self.sock.sendall(b"".join(self.out))
            self.out = []
            self.pending = 0

    def _fill(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise EOFError("ferry closed the socket")
            self.buf += chunk

    def recv(self):
        self.flush()
        return self.read_frame()

    def read_frame(self):
        """The next frame, without flushing what is queued to go out."""
        self._fill(HEADER.size)
        kind, sid, length = HEADER.unpack_from(self.buf)
        self._fill(HEADER.size + length)
        payload = bytes(self.buf[HEADER.size:HEADER.size + length])
        del self.buf[:HEADER.size + length]
        return kind, sid, payload

    def ready(self):
        """Whether a frame (or part of one) is waiting, without blocking."""
        if self.buf:
            return True
        r, _, _ = select.select([self.sock], [], [], 0)
        return bool(r)


def serve_threaded(link, app, threads):
    """Serves up to `threads` requests at once, each on the thread that read it (see Relay); ferry
    sends a worker at most that many requests at once."""
    from ferry_wsgi_threads import Relay  # beside this script, as ferry_protocol is
    WSGI_CONSTANTS["wsgi.multithread"] = True
    lock = threading.Lock()
    relay = Relay(link, lock, Stop)

    def run():
        job = relay.next_request()
        while job is not None:
            tl, sid, payload = job
            try:
                serve(tl, app, sid, payload)
            except BaseException:
                traceback.print_exc()
            finally:
                relay.finished(sid)
                with lock:
                    Stop.busy -= 1
                    Stop.finished(link)
            job = relay.next_request(served=True)

    pool = [threading.Thread(target=run, name="ferry-wsgi-%d" % i, daemon=True) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return 0


def latin1(s, what):
    if not isinstance(s, str):
        raise TypeError("%s must be a str, got %r" % (what, type(s).__name__))
    return s.encode("latin-1")


class ErrorStream:
    """wsgi.errors: text goes to ferry's error log, tagged with the request id."""

    def __init__(self, link, sid):
        self.link, self.sid, self.pending = link, sid, ""

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError("wsgi.errors.write() takes a str")
        self.pending += s
        while "\n" in self.pending:
            line, self.pending = self.pending.split("\n", 1)
            self.link.send(LOG, self.sid, line.encode("utf-8", "replace"))
        return len(s)

    def writelines(self, seq):
        for s in seq:
            self.write(s)

    def flush(self):
        if self.pending:
            self.link.send(LOG, self.sid, self.pending.encode("utf-8", "replace"))
            self.pending = ""


class FileWrapper:
    """wsgi.file_wrapper: a file's bytes from its current position, in blocks."""

    def __init__(self, filelike, blksize=65536):
        self.filelike, self.blksize = filelike, blksize
        if hasattr(filelike, "close"):
            self.close = filelike.close

    def __iter__(self):
        return self

    def __next__(self):
        data = self.filelike.read(self.blksize)
        if data:
            return data
        raise StopIteration


HEADS = HeadCache()


class Exchange:
    """One request: start_response, write() and the credit window."""

    def __init__(self, link, sid, credit):
        self.link, self.sid, self.credit = link, sid, credit
        self.status = None
        self.headers = None
        self.payload = None  # the HEAD payload, when the same status and headers were seen before
        self.length = -1  # the Content-Length the app declared
        self.written = 0  # body bytes sent
        self.sent = False
        self.streaming = True  # look for a CANCEL before each piece (not for a whole list)

    def start_response(self, status, headers, exc_info=None):
        if exc_info:
            try:
                if self.sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AssertionError("start_response() called again without exc_info")
        key, hit = HEADS.get(status, headers) if type(headers) is list else (None, None)
        if hit is not None:  # the same head as before: checked and encoded then
            self.status, self.headers = status, headers
            self.payload, self.length = hit
            return self.write
        latin1(status, "status")
        if len(status) < 4 or not status[:3].isdigit() or status[3] != " ":
            raise ValueError("status must look like '200 OK', got %r" % (status,))
        if not isinstance(headers, list):
            raise TypeError("response headers must be a list, got %r" % type(headers).__name__)
        length = -1
        for h in headers:
            if not isinstance(h, tuple) or len(h) != 2:
                raise TypeError("each response header must be a (name, value) tuple, got %r" % (h,))
            latin1(h[0], "header name")
            latin1(h[1], "header value")
            if h[0].lower() == "content-length" and h[1].isdigit():
                length = int(h[1]) if length < 0 else -2  # two of them: not trusted
        self.status, self.headers = status, headers
        self.payload = U32.pack(len(status)) + status.encode("latin-1") + strings(headers)
        self.length = length
        HEADS.put(key, (self.payload, length))
        return self.write

    def complete(self):
        """Whether the body has reached the Content-Length the app declared: nothing may follow, so
        what is queued can wait to leave with the END (one write, not two)."""
        return self.length >= 0 and self.written >= self.length

    def head(self):
        if self.status is None:
            raise AssertionError("the app returned without calling start_response()")
        self.link.send(HEAD, self.sid, self.payload)
        self.sent = True

    def poll(self):
        """Takes in the frames ferry has sent (credit, cancel) without blocking."""
        while self.link.ready():
            self.take(*self.link.recv())

    def take(self, kind, sid, payload):
        if kind == REQUEST:
            self.link.backlog.append((kind, sid, payload))  # pipelined: served after this one
            return
        if sid != self.sid:
            return  # credit or cancel for a request already finished
        if kind == CREDIT:
            self.credit += U32.unpack(payload)[0]
        elif kind == CANCEL:
            raise Cancelled()

    def write(self, data):
        """The write() callable of start_response: sent before it returns."""
        self.send_body(data)
        self.link.flush()

    def send_body(self, data):
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("the body must be bytes, got %r" % type(data).__name__)
        if not self.sent:
            self.head()
        view = memoryview(data)
        while len(view) > 0:
            if self.streaming and self.written > 0:
                self.poll()  # a CANCEL for a stream that is under way (not for its first piece)
            while self.credit <= 0:
                self.take(*self.link.recv())
            n = min(len(view), self.credit, PIECE)
            self.link.send(DATA, self.sid, bytes(view[:n]))
            self.credit -= n
            self.written += n
            view = view[n:]


WSGI_CONSTANTS = {
    "wsgi.version": (1, 0),
    "wsgi.multithread": False,
    "wsgi.multiprocess": True,
    "wsgi.run_once": False,
    "wsgi.input_terminated": True,
    "wsgi.file_wrapper": FileWrapper,
}


def serve(link, app, sid, payload):
    credit, environ, body = decode_request(payload)
    body_file = environ.pop("ferry.body_file", None)
    stream = open(body_file, "rb") if body_file else io.BytesIO(body)
    ex = Exchange(link, sid, credit)
    errors = ErrorStream(link, sid)
    environ.update(WSGI_CONSTANTS)
    environ["wsgi.input"] = stream
    environ["wsgi.errors"] = errors
    result = None
    outcome = None
    single = None  # the whole body of a one-piece list, sent with the head and the end in one frame
    try:
        result = app(environ, ex.start_response)
        # PEP 3333: a block is transmitted before the next is asked for, so a streamed body is
        # flushed chunk by chunk; a list is already whole and leaves with END in one write.
        whole = isinstance(result, (list, tuple))
        ex.streaming = not whole
        pieces = result
        if whole and len(result) == 1 and type(result[0]) is bytes and not REPORT_RSS and not ex.sent:
            if ex.status is None:
                raise AssertionError("the app returned without calling start_response()")
            if len(result[0]) <= min(ex.credit, PIECE):
                single = result[0]
                pieces = ()
        for chunk in pieces:
            if not isinstance(chunk, (bytes, bytearray)):
                raise TypeError("the app yielded %r, not bytes" % type(chunk).__name__)
            if chunk:
                ex.send_body(chunk)
                if not whole and not ex.complete():
                    link.flush()
        if not ex.sent and single is None:
            ex.head()
    except Cancelled:
        outcome = "cancelled"
    except BaseException as e:
        outcome = (b"\x01" if ex.sent else b"\x00") + traceback.format_exc().encode("utf-8", "replace")
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
    finally:
        # PEP 3333: close() is called whatever happened; before END, so that what it does (Django's
        # request_finished) has happened when the response is complete.
        if hasattr(result, "close"):
            try:
                result.close()
            except BaseException:
                errors.write("exception in close():\n" + traceback.format_exc())
        errors.flush()
        stream.close()
    if outcome is None and single is not None:
        link.send_response(sid, ex.payload, single)
    elif outcome is None or outcome == "cancelled":
        link.send(END, sid, rss_report())
    else:
        link.send(ERROR, sid, outcome)
    link.flush()


REPORT_RSS = os.environ.get("FERRY_WSGI_REPORT_RSS") == "1"
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_kib():
    """This process's resident memory in KiB: /proc/self/statm where there is one (Linux), else
    the peak from getrusage (KiB on Linux, bytes on macOS). ferry cannot read another process's
    /proc under the permissions it runs with, so the worker reports its own."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * PAGE_BYTES // 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak // 1024 if sys.platform == "darwin" else peak
    except (ImportError, OSError):
        return 0


def rss_report():
    """The END frame's payload: the resident memory (u32 KiB) when ferry asked for it
    (--wsgi-max-rss), else nothing."""
    return U32.pack(min(rss_kib(), 0xFFFFFFFF)) if REPORT_RSS else b""


def load(spec):
    module_name, _, expr = spec.partition(":")
    if not module_name or not expr:
        raise ValueError("the app must be given as MODULE:CALLABLE, got %r" % spec)
    module = __import__(module_name, fromlist=["_"])
    namespace = dict(vars(module))
    app = eval(expr, namespace) if expr.endswith(")") else getattr(module, expr)
    if not callable(app):
        raise TypeError("%s is not callable" % spec)
    return app


LOG_MARK = "\x1e"  # starts a line that carries a logging level: MARK LEVEL SPACE JSON-STRING


def tag_logging():
    """Lines that Python's logging writes to stderr or stdout carry their level to ferry: every
    StreamHandler on those streams (the app's, Django's console handler, logging's last resort)
    writes MARK LEVEL "message" on one line, and ferry logs the message at that level."""
    import json
    import logging

    base = logging.StreamHandler.format

    def format(self, record):
        text = base(self, record)
        stream = getattr(self, "stream", None)
        if stream is not None and stream in (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__):
            return LOG_MARK + record.levelname + " " + json.dumps(text)
        return text

    logging.StreamHandler.format = format


def watch_parent(every=0.5):
    """A worker must not outlive ferry (a kill -9 or an OOM kill of ferry closes no socket the busy
    app would notice): a daemon thread checks the parent pid, which changes when the worker is
    re-parented, and ends the process. It runs even while the app is busy in a loop."""
    parent = os.getppid()

    def run():
        while True:
            time.sleep(every)
            if os.getppid() != parent:
                os._exit(70)

    threading.Thread(target=run, name="ferry-watchdog", daemon=True).start()


def guard_process():
    """What every worker sets up first: the parent watchdog, the logging levels, and no
    KeyboardInterrupt: Ctrl-C in a terminal is ferry's to handle (it drains, then stops the
    workers), even where the signal reaches the worker's process group too."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch_parent()
    tag_logging()


class Stop:
    """SIGTERM, as a service manager sends it to every process of the service at once: a worker
    in a request finishes it (and those running on its threads), then exits; an idle worker exits
    at once; past FERRY_WSGI_GRACEFUL_TIMEOUT seconds it exits whatever it is doing."""

    requested = False
    busy = 0  # requests being served

    @staticmethod
    def grace():
        """FERRY_WSGI_GRACEFUL_TIMEOUT in seconds (0: none given)."""
        return float(os.environ.get("FERRY_WSGI_GRACEFUL_TIMEOUT") or 0)

    @classmethod
    def arm(cls):
        """The stop is asked for: past the graceful timeout the process exits, whatever it does
        (the ASGI worker arms this too, then lets its open tasks end)."""
        cls.requested = True
        grace = cls.grace()
        if grace > 0 and hasattr(signal, "setitimer"):
            signal.signal(signal.SIGALRM, lambda *_: os._exit(0))
            signal.setitimer(signal.ITIMER_REAL, grace)

    @classmethod
    def on_term(cls, *_):
        cls.arm()
        if cls.busy == 0:
            raise SystemExit(0)

    @classmethod
    def finished(cls, link):
        """After a request: exit when a stop was asked for and nothing else runs."""
        if cls.requested and cls.busy == 0:
            link.flush()
            if threading.current_thread() is threading.main_thread():
                raise SystemExit(0)
            os._exit(0)  # a serving thread: the main thread is blocked reading frames


def main():
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    guard_process()
    signal.signal(signal.SIGTERM, Stop.on_term)
    for p in reversed([p for p in os.environ.get("FERRY_WSGI_PATH", "").split(os.pathsep) if p]):
        sys.path.insert(0, p)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(os.environ["FERRY_WSGI_SOCKET"])
    link = Link(sock)
    link.send(HELLO, 0, os.environ.pop("FERRY_WSGI_TOKEN").encode() + b" " + str(os.getpid()).encode())
    link.flush()
    try:
        app = load(os.environ["FERRY_WSGI_APP"])
    except BaseException:
        link.send(IMPORT_ERROR, 0, traceback.format_exc().encode("utf-8", "replace"))
        link.flush()
        return 3
    link.send(READY, 0)
    link.flush()
    threads = int(os.environ.get("FERRY_WSGI_THREADS", "1") or 1)
    if threads > 1:
        return serve_threaded(link, app, threads)
    while True:
        try:
            kind, sid, payload = link.backlog.popleft() if link.backlog else link.recv()
        except EOFError:
            return 0
        if kind == REQUEST:
            Stop.busy += 1
            try:
                serve(link, app, sid, payload)
            finally:
                Stop.busy -= 1
            Stop.finished(link)
        # a CREDIT or CANCEL for a request already finished is stale: ignore it


if __name__ == "__main__":
    sys.exit(main())
