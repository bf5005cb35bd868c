#!/usr/bin/env python3
"""A pool worker in Python, speaking docs/pool.md's protocol with the standard library only:
the tests run it to show that the protocol is the whole contract, not the .NET helper."""
import json, os, signal, socket, struct, sys, threading

fd = int(os.environ.pop("TEND_POOL_FD"))
channel = socket.socket(fileno=fd)
lock = threading.Lock()
stopping = threading.Event()


def send(message):
    data = json.dumps(message).encode()
    with lock:
        channel.sendall(struct.pack(">I", len(data)) + data)


def read_exact(n):
    buf = b""
    while len(buf) < n:
        chunk = channel.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


signal.signal(signal.SIGTERM, lambda *_: stopping.set())
print(f"python worker {os.environ.get('TEND_POOL_WORKER')} up", flush=True)
send({"type": "ready"})
while not stopping.is_set():
    header = read_exact(4)
    if header is None:
        break  # the pool is gone
    message = json.loads(read_exact(struct.unpack(">I", header)[0]))
    kind = message["type"]
    if kind == "ping":
        send({"type": "pong", "id": message["id"]})
    elif kind == "task":
        body = message["body"]
        if body.get("op") == "throw":
            send({"type": "error", "id": message["id"], "error": {"type": "ValueError", "message": body.get("text") or "asked to throw"}})
        else:
            send({"type": "result", "id": message["id"], "body": {"pid": os.getpid(), "version": "python", "text": body.get("text"), "worker": int(os.environ["TEND_POOL_WORKER"])}})
    elif kind == "stop":
        break
sys.exit(0)
