#!/usr/bin/python3
"""A stand-in for the Python interpreter (--wsgi-python) whose worker exits before its
IMPORT_ERROR frame reaches ferry: it connects and says hello as worker.py does, then forks; the
process ferry started exits at once (code 3), and the forked copy sends IMPORT_ERROR only once it
sees its parent gone. ferry must still name the import error, whatever order it notices them in."""

import os
import socket
import sys
import time

# The frame codec is the workers' own (src/app/python/protocol.py), not a copy of it.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 4, "src", "app", "python"))
from protocol import HELLO, IMPORT_ERROR, frame  # noqa: E402

sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.connect(os.environ["FERRY_WSGI_SOCKET"])
hello = os.environ["FERRY_WSGI_TOKEN"].encode() + b" " + str(os.getpid()).encode()
sock.sendall(frame(HELLO, 0, hello))
parent = os.getpid()
if os.fork() != 0:
    os._exit(3)
while os.getppid() == parent:
    time.sleep(0.01)
time.sleep(0.2)  # ferry has seen the exit by now (it waits on it; this is not what the test checks)
tb = b"Traceback (most recent call last):\nModuleNotFoundError: No module named 'nosuch'\n"
sock.sendall(frame(IMPORT_ERROR, 0, tb))
sock.close()
sys.exit(0)
