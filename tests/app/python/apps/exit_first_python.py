#!/usr/bin/python3
"""A stand-in for the Python interpreter (--wsgi-python) whose worker exits before its
IMPORT_ERROR frame reaches ferry: it connects and says hello as worker.py does, then forks; the
process ferry started exits at once (code 3), and the forked copy sends IMPORT_ERROR only once it
sees its parent gone. ferry must still name the import error, whatever order it notices them in."""

import os
import socket
import struct
import sys
import time

HEADER = struct.Struct(">BII")
HELLO, IMPORT_ERROR = 20, 22

sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.connect(os.environ["FERRY_WSGI_SOCKET"])
hello = os.environ["FERRY_WSGI_TOKEN"].encode() + b" " + str(os.getpid()).encode()
sock.sendall(HEADER.pack(HELLO, 0, len(hello)) + hello)
parent = os.getpid()
if os.fork() != 0:
    os._exit(3)
while os.getppid() == parent:
    time.sleep(0.01)
time.sleep(0.2)  # ferry has seen the exit by now (it waits on it; this is not what the test checks)
tb = b"Traceback (most recent call last):\nModuleNotFoundError: No module named 'nosuch'\n"
sock.sendall(HEADER.pack(IMPORT_ERROR, 0, len(tb)) + tb)
sock.close()
sys.exit(0)
