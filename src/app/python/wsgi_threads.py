"""The threads of a threaded WSGI worker (--wsgi-threads N, like gunicorn's gthread): how they share
the reading of ferry's socket (Relay) and each request's side of it (ThreadLink). Imported by
ferry_wsgi_worker.py when it runs threads; standard library only."""

import collections
import threading
import time

from ferry_protocol import REQUEST


class ThreadLink:
    """One request's side of the link in a threaded worker: what it sends goes out under the
    link's lock; the frames ferry sends for it (credit, cancel) come through the relay."""

    def __init__(self, relay):
        self.relay, self.link, self.lock = relay, relay.link, relay.lock
        self.frames = collections.deque()
        self.wake = None  # a Condition on the relay's mutex, made the first time it waits
        self.backlog = collections.deque()  # never used: the relay routes requests

    def send(self, kind, sid, payload=b""):
        with self.lock:
            self.link.send(kind, sid, payload)

    def send_response(self, sid, head, body):
        with self.lock:
            self.link.send_response(sid, head, body)

    def flush(self):
        with self.lock:
            self.link.flush()

    def recv(self):
        self.flush()
        return self.relay.frame_for(self)

    def ready(self):
        return bool(self.frames)


FREE, READING, HELD = 0, 1, 2  # the reading role of a threaded worker's link (see Relay)


class Relay:
    """The threads of a threaded worker share the reading of the link (leader and followers). The
    thread that reads a request serves it itself and keeps the reading role meanwhile (HELD): a
    quick request is read, served and answered on one thread, with no hand-off or wake-up. One
    idle thread (the deputy) checks on the holder: a request that holds the role longer than
    TAKEOVER seconds has the deputy take it and read on, so slow requests are served side by side
    (those behind a slow one start up to TAKEOVER later). A thread
    waiting for a frame of its own (credit for a large response) takes the role at once when no
    thread is reading, so threads all waiting for credit cannot starve each other of it; requests
    it reads meanwhile wait for a free thread."""

    TAKEOVER = 0.02  # seconds a request may hold the reading role before an idle thread takes it
    IDLE_AFTER = 1.0  # seconds of a reader blocked on an idle link before idle threads stop checking

    def __init__(self, link, lock, stop):
        self.link, self.lock = link, lock  # lock: sending
        self.stop = stop  # the worker's Stop: counts the requests in flight
        self.mutex = threading.Lock()  # the fields below
        self.idle = threading.Condition(self.mutex)
        self.state = FREE
        self.owner = None  # the thread with the role
        self.since = 0.0  # when the role was last taken or held
        self.sleepers = 0  # idle threads waiting without a timeout
        self.deputy = None  # the idle thread that checks for a slow holder
        self.closed = False
        self.waiting = collections.deque()  # requests read by a thread busy with its own
        self.streams = {}
        self.wanting = []  # ThreadLinks waiting for a frame of their own

    def _take(self):
        self.state = READING
        self.owner = threading.get_ident()
        self.since = time.monotonic()

    def next_request(self, served=False):
        """An idle thread's next request (ThreadLink, sid, payload); None once ferry closed the
        link. A thread that still holds the role after serving (`served`) reads on at once."""
        me = threading.get_ident()
        with self.mutex:
            if served and self.state == HELD and self.owner == me and not self.waiting:
                self._take()
            else:
                while True:
                    if self.waiting:
                        return self.waiting.popleft()
                    if self.closed:
                        return None
                    if self.state == FREE:
                        self._take()
                        break
                    left = self.since + self.TAKEOVER - time.monotonic()
                    if self.state == HELD and left <= 0 and self.deputy in (None, me):
                        self.deputy = None
                        self._take()  # the holder's request is slow: read on beside it
                        self.idle.notify()  # another idle thread becomes the deputy
                        break
                    if self.deputy is None and not (self.state == READING and left < -self.IDLE_AFTER):
                        # One idle thread (the deputy) checks for a slow holder; the others sleep.
                        self.deputy = me
                    if self.deputy == me and not (self.state == READING and left < -self.IDLE_AFTER):
                        self.idle.wait(max(left, self.TAKEOVER))
                        continue
                    if self.deputy == me:
                        self.deputy = None  # a quiet link: the deputy sleeps too
                    self.sleepers += 1
                    try:
                        self.idle.wait()
                    finally:
                        self.sleepers -= 1
        return self._read(None)

    def frame_for(self, tl):
        """The next frame for `tl`'s request, read by this thread when no other thread reads."""
        with self.mutex:
            while not tl.frames:
                if self.closed:
                    raise EOFError("ferry closed the socket")
                if self.state != READING:
                    self._take()
                    break
                if tl.wake is None:
                    tl.wake = threading.Condition(self.mutex)
                self.wanting.append(tl)
                try:
                    tl.wake.wait()
                finally:
                    self.wanting.remove(tl)
            else:
                return tl.frames.popleft()
        return self._read(tl)

    def finished(self, sid):
        with self.mutex:
            self.streams.pop(sid, None)

    def _hold(self):
        """Under the mutex: this thread goes on to serve and keeps the role (frames already
        buffered behind its own wait for it, or for a thread that takes the role from a slow
        request), unless another thread wants a frame or a request waits: then it lets go."""
        if self.wanting or self.waiting:
            self.state = FREE
            if self.wanting:
                self.wanting[0].wake.notify()
            else:
                self.idle.notify()
        else:
            self.state = HELD
            self.since = time.monotonic()
            if self.deputy is None and self.sleepers:
                self.idle.notify()  # a sleeper becomes the deputy, checking whether this request is slow

    def _read(self, mine):
        """Reads frames until one for `mine`, or (an idle thread: None) a request to serve."""
        try:
            while True:
                kind, sid, payload = self.link.read_frame()
                with self.mutex:
                    if kind == REQUEST:
                        tl = ThreadLink(self)
                        self.streams[sid] = tl
                        with self.lock:
                            self.stop.busy += 1
                        if mine is None:
                            self._hold()
                            return tl, sid, payload
                        self.waiting.append((tl, sid, payload))
                        self.idle.notify()
                        continue
                    tl = self.streams.get(sid)
                    if tl is None:
                        continue  # a CREDIT or CANCEL for a request already finished
                    if tl is mine:
                        self._hold()
                        return kind, sid, payload
                    tl.frames.append((kind, sid, payload))
                    if tl.wake is not None:
                        tl.wake.notify()
        except (EOFError, OSError):
            with self.mutex:
                self.closed = True
                self.state = FREE
                self.idle.notify_all()
                for tl in self.wanting:
                    tl.wake.notify()
            if mine is None:
                return None
            raise EOFError("ferry closed the socket")
