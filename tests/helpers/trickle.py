#!/usr/bin/env python3
"""trickle: two TCP listeners on loopback with clients arriving steadily, for the queue tests.

    python3 tests/helpers/trickle.py PORT_STUCK PORT_SERVED

The listener on PORT_STUCK never accepts; the one on PORT_SERVED accepts (and closes) every
connection. A client connects to each every 0.25 s, at most 60 each, and keeps its socket
open. Prints one JSON line {"stuck": {"inode"}, "served": {"inode"}, "pid"} once both listen,
then runs until stdin closes. Loopback only; bounded in count and time.
"""
import json
import os
import socket
import sys
import threading
import time


def listener(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", port))
    s.listen(128)
    return s


def serve(s):
    while True:
        try:
            c, _ = s.accept()
            c.close()
        except OSError:
            return


def clients(ports, stop):
    held = []
    for _ in range(60):
        if stop.is_set():
            break
        for p in ports:
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.settimeout(2)
            try:
                c.connect(("127.0.0.1", p))
                held.append(c)
            except OSError:
                c.close()
        time.sleep(0.25)
    stop.wait(60)


def main():
    stuck_port, served_port = int(sys.argv[1]), int(sys.argv[2])
    stuck, served = listener(stuck_port), listener(served_port)
    threading.Thread(target=serve, args=(served,), daemon=True).start()
    stop = threading.Event()
    threading.Thread(target=clients, args=([stuck_port, served_port], stop), daemon=True).start()
    print(json.dumps({
        "pid": os.getpid(),
        "stuck": {"inode": os.fstat(stuck.fileno()).st_ino},
        "served": {"inode": os.fstat(served.fileno()).st_ino},
    }), flush=True)
    sys.stdin.read()
    stop.set()


if __name__ == "__main__":
    main()
