"""The client side of ferry's traffic matrix (tests/e2e/traffic_matrix.ts): one traffic shape over
one transport, as an ordinary or hostile client sends it, on /usr/bin/python3 (Python's h2 for
HTTP/2, raw sockets for HTTP/1.1).

usage: traffic_client.py SHAPE PROTO PORT CA PARAMS_JSON
  PROTO: h1 | h1s | h2 | h2c   (HTTP/1.1 plain or TLS, HTTP/2 TLS (ALPN h2) or prior knowledge)
  CA: the PEM file to trust for TLS ("-" for plain)
Prints one JSON object: what the server did. A shape waiting for the test (to measure memory or
send a signal) prints {"ready": true} on a line first, then waits for a line on stdin.
"""
import json
import socket
import ssl
import struct
import sys
import threading
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

shape, proto, port, ca = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
params = json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}
HOST = "localhost"
IS_H2 = proto in ("h2", "h2c")


def connect(timeout=20):
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if proto in ("h1s", "h2"):
        ctx = ssl.create_default_context(cafile=ca)
        ctx.set_alpn_protocols(["h2"] if proto == "h2" else ["http/1.1"])
        sock = ctx.wrap_socket(sock, server_hostname=HOST)
    return sock


def ready():
    """Tells the test the shape is in place, and waits for its go-ahead."""
    print(json.dumps({"ready": True}), flush=True)
    sys.stdin.readline()


class Response:
    def __init__(self):
        self.status = 0
        self.headers = {}
        self.body = bytearray()
        self.reset = None  # HTTP/2 RST_STREAM code
        self.goaway = None
        self.closed = False

    def json(self):
        return {"status": self.status, "reset": self.reset, "goaway": self.goaway, "closed": self.closed,
                "bytes": len(self.body)}


class H1:
    """HTTP/1.1 over one socket: requests one after another, responses read by their framing."""

    def __init__(self):
        self.sock = connect()
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def head(self, method, path, headers=(), length=None):
        lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}"]
        lines += [f"{k}: {v}" for k, v in headers]
        if length is not None:
            lines.append(f"Content-Length: {length}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _fill(self):
        try:
            data = self.sock.recv(1 << 20)
        except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
            data = b""
        if not data:
            raise EOFError()
        self.buf += data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _take(self, n, into):
        while n > 0:
            if not self.buf:
                self._fill()
            piece = self.buf[:n]
            self.buf = self.buf[len(piece):]
            into += piece
            n -= len(piece)

    def response(self, method="GET"):
        r = Response()
        try:
            status = self._line()
            r.status = int(status.split(b" ")[1])
            while True:
                line = self._line()
                if not line:
                    break
                k, v = line.split(b":", 1)
                r.headers[k.decode().lower()] = v.decode().strip()
            if method == "HEAD" or r.status in (204, 304) or r.status < 200:
                return r
            if r.headers.get("transfer-encoding", "").lower() == "chunked":
                while True:
                    size = int(self._line().split(b";")[0], 16)
                    if size == 0:
                        while self._line():
                            pass
                        break
                    self._take(size, r.body)
                    self._line()
            elif "content-length" in r.headers:
                self._take(int(r.headers["content-length"]), r.body)
            else:
                try:
                    while True:
                        self._fill()
                except EOFError:
                    r.body += self.buf
                    self.buf = b""
        except (EOFError, socket.timeout, OSError):
            r.closed = True
        return r

    def request(self, method, path, headers=(), body=None):
        self.send(self.head(method, path, headers, None if body is None else len(body)) + (body or b""))
        return self.response(method)

    def close(self):
        self.sock.close()


class H2:
    """HTTP/2 over one socket with Python's h2: flow control both ways, windows opened wide."""

    def __init__(self, window=1 << 24, now=True):
        self.sock = connect() if now else None
        self.conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        if window is not None:
            self.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
            self.conn.increment_flow_control_window(window - 65535)
        self.responses = {}
        self.goaway = None
        self.closed = False
        if now:
            self.flush()

    def flush(self, extra=b""):
        data = self.conn.data_to_send() + extra
        if data:
            try:
                self.sock.sendall(data)
            except OSError:
                self.closed = True

    def fields(self, method, path, headers=()):
        return [(":method", method), (":scheme", "https" if proto == "h2" else "http"), (":path", path),
                (":authority", HOST)] + [(k.lower(), v) for k, v in headers]

    def open(self, method, path, headers=(), end=True):
        sid = self.conn.get_next_available_stream_id()
        self.responses[sid] = Response()
        self.conn.send_headers(sid, self.fields(method, path, headers), end_stream=end)
        return sid

    def pump(self, until):
        """Reads frames until `until()` holds, the server sends GOAWAY, or the connection closes."""
        while not until() and not self.closed:
            try:
                data = self.sock.recv(1 << 20)
            except (socket.timeout, ConnectionResetError, ssl.SSLError, OSError):
                data = b""
            if not data:
                self.closed = True
                break
            try:
                events = self.conn.receive_data(data)
            except h2.exceptions.ProtocolError as e:
                self.closed = True
                self.error = repr(e)
                break
            for ev in events:
                self.event(ev)
            self.flush()
            if self.goaway is not None and until():
                break
        for r in self.responses.values():
            r.goaway = self.goaway
            if self.closed and r.status == 0 and r.reset is None:
                r.closed = True

    def event(self, ev):
        if isinstance(ev, h2.events.ResponseReceived):
            r = self.responses[ev.stream_id]
            h = dict(ev.headers)
            r.status = int(h.get(":status", 0))
            r.headers = h
        elif isinstance(ev, h2.events.DataReceived):
            self.responses[ev.stream_id].body += ev.data
            self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        elif isinstance(ev, h2.events.StreamEnded):
            self.responses[ev.stream_id].ended = True
        elif isinstance(ev, h2.events.StreamReset):
            if ev.stream_id in self.responses:
                self.responses[ev.stream_id].reset = int(ev.error_code)
        elif isinstance(ev, h2.events.ConnectionTerminated):
            self.goaway = int(ev.error_code)
            self.last_stream = ev.last_stream_id
        elif isinstance(ev, h2.events.PingAckReceived):
            self.pinged = True

    def done(self, sid):
        r = self.responses[sid]
        return lambda: getattr(r, "ended", False) or r.reset is not None

    def send_body(self, sid, body, end=True):
        sent = 0
        while sent < len(body):
            room = min(self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size,
                       len(body) - sent)
            if room > 0:
                self.conn.send_data(sid, body[sent:sent + room])
                sent += room
                if self.conn.outbound_flow_control_window == 0 or sent % (256 * 1024) < room:
                    self.flush()
            else:
                self.flush()
                window = lambda: self.conn.local_flow_control_window(sid) > 0 or self.responses[sid].reset is not None
                self.pump(window)
                if self.closed or self.responses[sid].reset is not None:
                    return sent
        if end:
            self.conn.end_stream(sid)
        self.flush()
        return sent

    def request(self, method, path, headers=(), body=None):
        sid = self.open(method, path, headers, end=body is None)
        self.flush()
        if body is not None:
            self.send_body(sid, body)
        self.pump(self.done(sid))
        return self.responses[sid]

    def close(self):
        try:
            self.conn.close_connection()
            self.flush()
        except Exception:
            pass
        self.sock.close()


def client(**kw):
    return H2(**kw) if IS_H2 else H1()


# --- Shapes ---------------------------------------------------------------------------------------

def keepalive():
    """A large first request (a POST body or a cookie), then `n` GETs on the same connection."""
    c = client()
    if params["first"] == "post":
        first = c.request("POST", "/count", [("content-type", "application/octet-stream")],
                          b"p" * params["bytes"])
    else:
        first = c.request("GET", params.get("path", "/count"), [("cookie", "c=" + "k" * params["bytes"])])
    ok = 0
    statuses = {}
    for i in range(params["n"]):
        r = c.request("GET", f"/count?i={i}")
        statuses[r.status] = statuses.get(r.status, 0) + 1
        if r.status == 200 and bytes(r.body) == b"GET 0":
            ok += 1
        if r.status == 0:
            break
    c.close()
    return {"first": first.status, "first_body": bytes(first.body).decode(), "ok": ok,
            "statuses": statuses, "goaway": getattr(c, "goaway", None)}


def upload():
    body = b"u" * params["bytes"]
    c = client()
    t = time.monotonic()
    r = c.request("PUT", "/count", [("content-type", "application/octet-stream")], body)
    took = time.monotonic() - t
    c.close()
    return {"status": r.status, "body": bytes(r.body).decode(), "seconds": took}


def download():
    c = client()
    t = time.monotonic()
    r = c.request("GET", f"/bytes?n={params['bytes']}")
    took = time.monotonic() - t
    c.close()
    return {"status": r.status, "bytes": len(r.body), "seconds": took, "all_b": r.body.count(b"b")}


def abandon():
    """A download of `bytes` given up after `after` bytes (RST_STREAM CANCEL; over HTTP/1.1 the
    connection closed), then a request on the same connection (over HTTP/1.1 a new one)."""
    c = client()
    path = f"/bytes?n={params['bytes']}"
    got = 0
    if IS_H2:
        sid = c.open("GET", path)
        c.flush()
        r = c.responses[sid]
        c.pump(lambda: len(r.body) >= params["after"] or r.reset is not None or getattr(r, "ended", False))
        got = len(r.body)
        c.conn.reset_stream(sid, 8)
        c.flush()
    else:
        c.send(c.head("GET", path))
        while got < params["after"]:
            data = c.sock.recv(1 << 16)
            if not data:
                break
            got += len(data)
        c.close()
        c = H1()
    nxt = c.request("GET", "/count")
    c.close()
    return {"got": got, "next": nxt.status, "next_body": bytes(nxt.body).decode(errors="replace"),
            "reset": nxt.reset, "goaway": getattr(c, "goaway", None)}


def trickle():
    """A body declared at `bytes`, sent one byte every `every` seconds until the server ends it."""
    c = client()
    n = params["bytes"]
    t = time.monotonic()
    sent = 0
    if IS_H2:
        sid = c.open("POST", "/count", [("content-length", str(n))], end=False)
        c.flush()
        c.sock.settimeout(params["every"])
        r = c.responses[sid]
        while sent < n and r.reset is None and r.status == 0 and not c.closed:
            if time.monotonic() - t > params["give_up"]:
                break
            c.conn.send_data(sid, b"t")
            sent += 1
            c.flush()
            try:
                data = c.sock.recv(65536)
                if not data:
                    c.closed = True
                for ev in c.conn.receive_data(data):
                    c.event(ev)
                c.flush()
            except socket.timeout:
                pass
            except OSError:
                c.closed = True
        out = r.json()
    else:
        c.send(c.head("POST", "/count", [], n))
        c.sock.settimeout(params["every"])
        status = 0
        closed = False
        while sent < n and time.monotonic() - t < params["give_up"]:
            try:
                c.send(b"t")
                sent += 1
            except OSError:
                closed = True
                break
            try:
                data = c.sock.recv(65536)
                if not data:
                    closed = True
                    break
                c.buf += data
                if c.buf.startswith(b"HTTP/1.1 "):
                    status = int(c.buf.split(b" ")[1])
            except socket.timeout:
                pass
            except OSError:
                closed = True
                break
        out = {"status": status, "reset": None, "closed": closed}
    out["seconds"] = time.monotonic() - t
    out["sent"] = sent
    c.close()
    return out


def nonreader():
    """Asks for `n` cached files on one connection and never reads; waits for the test's go-ahead."""
    c = client(window=(1 << 31) - 1) if IS_H2 else client()
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    path = params["path"]
    sent = 0
    if IS_H2:
        # Windows opened as wide as they go and more streams than the concurrency limit, never
        # reading: only the server's own budgets bound what it queues.
        for i in range(params["n"]):
            try:
                c.open("GET", f"{path}?i={i}")
            except h2.exceptions.TooManyStreamsError:
                break
            sent += 1
        # Past the limit h2 refuses to open more itself: write the rest as raw HEADERS.
        block = c.conn.encoder.encode(c.fields("GET", path))
        raw = b""
        sid = c.conn.highest_outbound_stream_id + 2
        for i in range(sent, params["n"]):
            raw += struct.pack(">I", len(block))[1:] + bytes([1, 5]) + struct.pack(">I", sid) + block
            sid += 2
        c.sock.settimeout(5)
        try:
            c.flush(raw)
        except OSError:
            pass
    else:
        c.sock.settimeout(5)
        req = c.head("GET", path)
        try:
            for i in range(params["n"]):
                c.send(req)
                sent += 1
        except (socket.timeout, OSError):
            pass
    ready()
    c.sock.close()
    return {"sent": sent}


def burst():
    """`n` HEADERS + RST_STREAM pairs in one write (Rapid Reset in one burst), read as it is sent."""
    # Built before connecting (it takes Python a while): the server sees the preface and the burst
    # together, not an idle connection that its keep-alive timeout ends first.
    c = H2(now=False)
    for i in range(params["n"]):
        sid = c.conn.get_next_available_stream_id()
        c.conn.send_headers(sid, c.fields("GET", params["path"]), end_stream=True)
        c.conn.reset_stream(sid, 8)
    data = c.conn.data_to_send()
    c.sock = connect()
    c.sock.settimeout(10)
    error = []

    def send():
        try:
            c.sock.sendall(data)
        except OSError as e:
            error.append(repr(e))

    # The burst goes from another thread while this one reads what the server answers (nothing
    # is sent from here): a server that stops reading until its answers are read is not stuck.
    sender = threading.Thread(target=send)
    sender.start()
    while c.goaway is None:
        try:
            got = c.sock.recv(1 << 20)
        except OSError:
            got = b""
        if not got:
            c.closed = True
            break
        for ev in c.conn.receive_data(got):
            if isinstance(ev, h2.events.ConnectionTerminated):
                c.goaway = int(ev.error_code)
    sender.join()
    ready()
    c.sock.close()
    return {"goaway": c.goaway, "closed": c.closed, "send_error": error[0] if error else None}


def drain():
    """A POST whose body is still arriving when the test stops the server (SIGTERM)."""
    c = client()
    parts = params["parts"]
    body = b"".join(parts_ for parts_ in (p.encode() for p in parts))
    if IS_H2:
        sid = c.open("POST", params["path"], [("content-length", str(len(body)))], end=False)
        c.conn.send_data(sid, parts[0].encode())
        c.flush()
        # The server has the stream once it answered a PING sent after it.
        c.conn.ping(b"12345678")
        c.flush()
        c.pump(lambda: getattr(c, "pinged", False))
    else:
        # The server has the request once it asked for the body (100 Continue).
        c.send(c.head("POST", params["path"], [("Expect", "100-continue")], len(body)))
        interim = c.response()
        assert interim.status == 100, interim.status
        c.send(parts[0].encode())
    ready()  # the test sends SIGTERM here
    time.sleep(params.get("pause", 0.3))
    # Python's h2 refuses to go on once a GOAWAY came: the rest goes as raw frames, read raw.
    for i, p in enumerate(parts[1:]):
        last = i == len(parts) - 2
        try:
            if IS_H2:
                data = p.encode()
                c.sock.sendall(struct.pack(">I", len(data))[1:] + bytes([0, 1 if last else 0]) +
                               struct.pack(">I", sid) + data)
            else:
                c.send(p.encode())
        except OSError:
            break
        time.sleep(params.get("pause", 0.3))
    r = raw_h2_answer(c, sid, through_goaway=True) if IS_H2 else c.response("POST")
    return {"status": r.status, "body": bytes(r.body).decode(errors="replace"), "reset": r.reset,
            "goaway": r.goaway, "closed": r.closed}


def methods():
    """Each of `methods` on a fresh connection: the status, or the stream's reset code."""
    out = []
    for m in params["methods"]:
        if IS_H2:
            c = H2()
            sid = c.conn.get_next_available_stream_id()
            # Written as a raw HEADERS frame (h2 refuses to send some of these fields itself).
            block = c.conn.encoder.encode(c.fields(m, "/count") + [(k, v) for k, v in params.get("extra", [])])
            c.flush(struct.pack(">I", len(block))[1:] + bytes([1, 5]) + struct.pack(">I", sid) + block)
            r = raw_h2_answer(c, sid)
        else:
            c = H1()
            c.send(f"{m} /count HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode("latin-1"))
            r = c.response()
        c.close()
        out.append({"method": m, "status": r.status, "reset": r.reset, "goaway": r.goaway})
    return {"results": out}


def raw_h2_answer(c, sid, through_goaway=False):
    """Reads raw frames for stream `sid` (sent behind h2's back): its status, body or reset code."""
    r = Response()
    r.goaway = c.goaway
    buf = c.pending if hasattr(c, "pending") else b""
    dec = c.conn.decoder
    while True:
        while len(buf) >= 9:
            length = int.from_bytes(buf[0:3], "big")
            if len(buf) < 9 + length:
                break
            ftype, flags, stream = buf[3], buf[4], int.from_bytes(buf[5:9], "big") & 0x7fffffff
            payload = buf[9:9 + length]
            buf = buf[9 + length:]
            if ftype == 1 and stream == sid:
                fields = dict((k.decode() if isinstance(k, bytes) else k, v.decode() if isinstance(v, bytes) else v)
                              for k, v in dec.decode(payload))
                r.status = int(fields.get(":status", 0))
                if flags & 1:
                    return r
            elif ftype == 0 and stream == sid:
                r.body += payload
                if flags & 1:
                    return r
            elif ftype == 3 and stream == sid:
                r.reset = int.from_bytes(payload[:4], "big")
                return r
            elif ftype == 7:
                r.goaway = int.from_bytes(payload[4:8], "big")
                if not through_goaway:
                    return r
        try:
            data = c.sock.recv(65536)
        except OSError:
            data = b""
        if not data:
            r.closed = True
            return r
        buf += data


SHAPES = {"keepalive": keepalive, "upload": upload, "download": download, "abandon": abandon, "trickle": trickle,
          "nonreader": nonreader, "burst": burst, "drain": drain, "methods": methods}
print(json.dumps(SHAPES[shape]()), flush=True)
