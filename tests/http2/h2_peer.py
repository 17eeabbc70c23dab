"""A misbehaving (or merely demanding) HTTP/2 client on Python's h2, for ferry's tests.

usage: h2_peer.py SCENARIO PORT [N]   (h2c prior knowledge on 127.0.0.1:PORT)
Prints one JSON object: what the server did (GOAWAY code, responses, resets, bytes).
"""
import json
import socket
import struct
import sys

import h2.config
import h2.connection
import h2.events
import h2.settings

scenario, port = sys.argv[1], int(sys.argv[2])
n = int(sys.argv[3]) if len(sys.argv) > 3 else 1000

sock = socket.create_connection(("127.0.0.1", port))
sock.settimeout(10)
conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
out = {"credit": {}, "goaway": None, "last_stream": None, "responses": {}, "resets": {}, "bytes": {}, "ended": [], "closed": False}


def get(path, end=True, sid=None):
    sid = sid or conn.get_next_available_stream_id()
    conn.send_headers(sid, [(":method", "GET"), (":scheme", "http"), (":path", path), (":authority", "localhost")],
                      end_stream=end)
    return sid


def raw(ftype, flags, sid, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid) + payload


def flush(extra=b""):
    try:
        sock.sendall(conn.data_to_send() + extra)
    except OSError:
        out["send_failed"] = True


def pump(until=lambda: False, ack=True):
    """Reads events until `until()` holds, a GOAWAY arrives, or the connection closes."""
    while not until() and out["goaway"] is None:
        try:
            data = sock.recv(65536)
        except (socket.timeout, ConnectionResetError):
            data = b""
        if not data:
            out["closed"] = True
            return
        try:
            events = conn.receive_data(data)
        except Exception as e:  # the server broke the protocol (it should not)
            out["client_error"] = repr(e)
            return
        for ev in events:
            if isinstance(ev, h2.events.ResponseReceived):
                out["responses"][ev.stream_id] = dict(ev.headers).get(":status")
            elif isinstance(ev, h2.events.DataReceived):
                out["bytes"][ev.stream_id] = out["bytes"].get(ev.stream_id, 0) + len(ev.data)
                if ack:
                    conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.WindowUpdated):
                out["credit"][ev.stream_id] = out["credit"].get(ev.stream_id, 0) + ev.delta
            elif isinstance(ev, h2.events.StreamEnded):
                out["ended"].append(ev.stream_id)
            elif isinstance(ev, h2.events.StreamReset):
                out["resets"][ev.stream_id] = int(ev.error_code)
            elif isinstance(ev, h2.events.ConnectionTerminated):
                out["goaway"] = int(ev.error_code)
                out["last_stream"] = ev.last_stream_id
        flush()


conn.initiate_connection()
flush()

if scenario == "rapid_reset":
    # CVE-2023-44487: open a stream and cancel it at once, n times.
    for i in range(n):
        sid = get("/slow", end=True)
        conn.reset_stream(sid, 8)
        if i % 50 == 0:
            flush()
    flush()
    pump()
elif scenario == "made_you_reset":
    # CVE-2025-8671: frames that make the server reset each stream (WINDOW_UPDATE of 0).
    frames = b""
    for i in range(n):
        sid = get("/slow", end=True)
        frames += conn.data_to_send() + raw(8, 0, sid, struct.pack(">I", 0))
        if i % 50 == 0:
            flush(frames)
            frames = b""
    flush(frames)
    pump()
elif scenario == "ping_flood":
    for i in range(n):
        conn.ping(struct.pack(">Q", i))
        if i % 100 == 0:
            flush()
    flush()
    pump()
elif scenario == "settings_flood":
    for i in range(n):
        conn.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 100 + i % 2})
        if i % 100 == 0:
            flush()
    flush()
    pump()
elif scenario == "zero_window":
    # Stream 1's window is 0 and never opened; stream 3's is opened: 3 finishes, 1 is reset.
    conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
    s1 = get("/big")
    s3 = get("/big")
    conn.increment_flow_control_window(1 << 24, s3)
    conn.increment_flow_control_window(1 << 24)
    flush()
    pump(lambda: s3 in out["ended"] and s1 in out["resets"])
elif scenario == "flow":
    # A 3 MB download and a 3 MB upload under the default windows, on one connection.
    s1 = get("/big")
    s3 = conn.get_next_available_stream_id()
    conn.send_headers(s3, [(":method", "POST"), (":scheme", "http"), (":path", "/echo"), (":authority", "x")])
    body = b"u" * (3 << 20)
    sent = 0
    flush()
    while sent < len(body):
        room = min(conn.local_flow_control_window(s3), conn.max_outbound_frame_size, len(body) - sent)
        if room > 0:
            conn.send_data(s3, body[sent:sent + room])
            sent += room
            flush()
        else:
            pump(lambda: conn.local_flow_control_window(s3) > 0)
    conn.end_stream(s3)
    flush()
    pump(lambda: s1 in out["ended"] and s3 in out["ended"])
    out["sent"] = sent
elif scenario == "many":
    # n streams at once (over the concurrency limit): refused ones are reset, the rest answered.
    for i in range(n):
        get("/")
    flush()
    pump(lambda: len(out["ended"]) + len(out["resets"]) >= n)
elif scenario == "window_tail":
    # A request body of exactly the stream's window, then nothing until the server gives the
    # credit back as its handler reads: a WINDOW_UPDATE left unsent stalls the upload.
    pump(lambda: conn.remote_settings.initial_window_size > 65535)
    sid = conn.get_next_available_stream_id()
    conn.send_headers(sid, [(":method", "POST"), (":scheme", "http"), (":path", "/up"), (":authority", "x")])
    sent = 0
    while min(conn.local_flow_control_window(sid), conn.outbound_flow_control_window) > 0:
        room = min(conn.local_flow_control_window(sid), conn.max_outbound_frame_size)
        conn.send_data(sid, b"w" * room)
        sent += room
    flush()
    sock.settimeout(5)
    pump(lambda: out["credit"].get(sid, 0) >= sent)
    out["sent"] = sent
    out["credited"] = out["credit"].get(sid, 0)
    if not out["closed"]:
        conn.end_stream(sid)
        flush()
        pump(lambda: sid in out["ended"])
else:
    raise SystemExit("unknown scenario " + scenario)

print(json.dumps(out))
