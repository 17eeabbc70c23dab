"""The frame codec between ferry and its Python workers (frames.ts is the other side), shared by the
WSGI worker (ferry_wsgi_worker.py) and the ASGI worker (ferry_asgi_worker.py). Standard library only.

Every frame is a 9-byte header, type (u8), stream id (u32) and payload length (u32), big-endian,
then the payload. A REQUEST frame's payload is the initial credit (u32), the size of what follows
(u32), that many bytes in marshal's format (one marshal.loads call makes the WSGI environ, or the
ASGI scope with the request id and flags), then the body when it travels inline. Several frames,
for several requests, may come in one read and leave in one write.
"""

import marshal
import struct

# ferry -> worker
REQUEST, BODY, CREDIT, CANCEL, WS_MESSAGE, WS_CLOSED = 1, 2, 4, 5, 6, 7
# worker -> ferry
HEAD, DATA, END, ERROR, LOG, BODY_ACK, TRAILERS, WS_ACCEPT, WS_SEND, WS_CLOSE = range(10, 20)
HELLO, READY, IMPORT_ERROR, STARTUP_FAILED = 20, 21, 22, 23
# worker -> ferry: a whole response in one frame (u32 head size, the HEAD payload, the body), as
# HEAD, DATA and an END without payload would say it
RESPONSE = 24

HEADER = struct.Struct(">BII")
HEADER_SIZE = HEADER.size
U32 = struct.Struct(">I")
U16 = struct.Struct(">H")
REQUEST_PREFIX = struct.Struct(">II")
PIECE = 64 * 1024  # most body bytes in one DATA frame

_loads = marshal.loads
_pack_header = HEADER.pack
_u32 = U32.pack


def frame(kind, sid, payload=b""):
    """A whole frame's bytes."""
    return _pack_header(kind, sid, len(payload)) + payload


def response(sid, head, body):
    """A RESPONSE frame's pieces (header, head with its size, body), to be joined or sent in turn."""
    return (_pack_header(RESPONSE, sid, 4 + len(head) + len(body)), _u32(len(head)) + head, body)


def split_frames(buf, pos=0):
    """The whole frames in `buf` from `pos` as (kind, sid, payload) and where the rest begins."""
    out = []
    end = len(buf)
    unpack = HEADER.unpack_from
    while end - pos >= HEADER_SIZE:
        kind, sid, length = unpack(buf, pos)
        stop = pos + HEADER_SIZE + length
        if stop > end:
            break
        out.append((kind, sid, bytes(buf[pos + HEADER_SIZE:stop])))
        pos = stop
    return out, pos


def decode_request(payload):
    """A REQUEST payload: (credit, the object ferry marshalled, the inline body)."""
    credit, size = REQUEST_PREFIX.unpack_from(payload)
    end = 8 + size
    return credit, _loads(memoryview(payload)[8:end]), payload[end:]


def strings(pairs):
    """Header pairs (bytes or latin-1 str) as a count and length-prefixed strings."""
    out = [_u32(len(pairs))]
    for k, v in pairs:
        for b in (k, v):
            if isinstance(b, str):
                b = b.encode("latin-1")
            out.append(_u32(len(b)))
            out.append(b)
    return b"".join(out)


class HeadCache:
    """HEAD payloads (status, then header pairs as in strings()) by status and header set: an app
    that answers with the same headers again (most do) has its head encoded once. Bounded: past
    `limit` distinct heads it starts over."""

    __slots__ = ("heads", "limit")

    def __init__(self, limit=256):
        self.heads = {}
        self.limit = limit

    def get(self, status, headers):
        """(key, the payload cached for it or None); key None when the pieces cannot be a key."""
        try:
            key = (status, tuple(headers))
            return key, self.heads.get(key)
        except TypeError:  # unhashable pieces (a list for a pair, a bytearray): no caching
            return None, None

    def put(self, key, payload):
        """Remembers a payload under a key from get()."""
        if key is None:
            return
        if len(self.heads) >= self.limit:
            self.heads.clear()
        self.heads[key] = payload

    def encode(self, status, headers):
        """The HEAD payload of `status` (bytes) and `headers` (pairs of bytes or latin-1 str)."""
        key, hit = self.get(status, headers)
        if hit is not None:
            return hit
        payload = _u32(len(status)) + status + strings(list(headers))
        self.put(key, payload)
        return payload
