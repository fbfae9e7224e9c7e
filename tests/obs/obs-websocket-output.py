#!/usr/bin/env python3
"""Starts and stops an OBS output by name through obs-websocket 5, as a
script or a remote control would, and checks on the room server's /metrics
that a publisher appears and goes.

    obs-websocket-output.py WEBSOCKET_PORT SERVER_PORT OUTPUT_NAME

A minimal WebSocket client (the standard library has none): enough for
obs-websocket's JSON text messages.  Every wait has a timeout."""
import base64
import json
import os
import socket
import struct
import sys
import time
import urllib.request


def log(msg):
    print("# " + msg, flush=True)


class WebSocket:
    def __init__(self, port):
        deadline = time.monotonic() + 30
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((
            "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: obswebsocket.json\r\n\r\n" % (port, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise OSError("connection closed during the handshake")
            head += chunk
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise OSError("handshake refused: %r" % head[:80])

    def _recv_exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise OSError("connection closed")
            data += chunk
        return data

    def send(self, obj):
        payload = json.dumps(obj).encode()
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 65536:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def recv(self):
        while True:
            b0, b1 = self._recv_exact(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._recv_exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._recv_exact(8))[0]
            payload = self._recv_exact(n)
            if b0 & 0x0F == 1:
                return json.loads(payload)
            if b0 & 0x0F == 8:
                raise OSError("closed by obs-websocket: %r" % payload)


def request(ws, rtype, data):
    """The request's status; with its response data as "data"."""
    ws.send({"op": 6, "d": {"requestType": rtype, "requestId": rtype, "requestData": data}})
    while True:
        msg = ws.recv()
        if msg.get("op") == 7 and msg["d"].get("requestId") == rtype:
            status = dict(msg["d"]["requestStatus"])
            status["data"] = msg["d"].get("responseData") or {}
            return status


def connect(ws_port):
    """An identified connection, or None."""
    ws = WebSocket(ws_port)
    ws.sock.settimeout(15)
    hello = ws.recv()
    if hello.get("op") != 0:
        log("no Hello: %r" % hello)
        return None
    ws.send({"op": 1, "d": {"rpcVersion": 1}})
    if ws.recv().get("op") != 2:
        log("not identified")
        return None
    return ws


def publishers(server_port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % server_port, timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("zego_publishers "):
                return float(line.split()[1])
    return -1


def wait_publishers(server_port, want, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if publishers(server_port) == want:
            return True
        time.sleep(0.25)
    return False


def main():
    ws_port, server_port, name = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    ws = connect(ws_port)
    if not ws:
        return 1
    status = request(ws, "StartOutput", {"outputName": name})
    if not status.get("result"):
        log("StartOutput refused: %r" % status)
        return 1
    if not wait_publishers(server_port, 1, 20):
        log("no publisher on the room server after StartOutput")
        return 1
    status = request(ws, "StopOutput", {"outputName": name})
    if not status.get("result"):
        log("StopOutput refused: %r" % status)
        return 1
    if not wait_publishers(server_port, 0, 20):
        log("the publisher stayed after StopOutput")
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, ValueError) as e:
        log("obs-websocket: %s" % e)
        sys.exit(1)
