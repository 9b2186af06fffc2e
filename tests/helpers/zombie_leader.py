#!/usr/bin/env python3
"""zombie_leader: a process whose main thread has exited while another thread lives on, so
its /proc/PID/fd is empty (the leader is a zombie and its fd table is gone) while its sockets
live on in /proc/PID/task/TID/fd.

Used by tests/chaos_privileged.rs. Standard library only. Run inside the namespace under test:

    ip netns exec NS python3 tests/helpers/zombie_leader.py

The main thread opens a TCP listener on 127.0.0.1 (SO_REUSEADDR, backlog 8), starts a
non-daemon worker thread, prints ONE JSON line

    {"pid": PID, "worker_tid": TID, "port": PORT, "fd": FD, "inode": INODE}

and calls pthread_exit(3) itself. The worker then reads commands on stdin, one per line:

    open    bind one more socket (UDP 127.0.0.1, any port); reply
            {"opened": {"port": PORT, "fd": FD, "inode": INODE}}

and ends the whole process (os._exit) when stdin closes.
"""

import ctypes
import json
import os
import socket
import sys
import threading


def describe(s):
    fd = s.fileno()
    # thread-self: once the main thread has exited, /proc/self (the leader) lists no fds.
    link = os.readlink(f"/proc/thread-self/fd/{fd}")
    return {"port": s.getsockname()[1], "fd": fd, "inode": int(link[len("socket:["):-1])}


def worker(started, kept):
    started["tid"] = threading.get_native_id()
    started["event"].set()
    for line in sys.stdin:
        if line.strip() == "open":
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind(("127.0.0.1", 0))
            kept.append(u)
            print(json.dumps({"opened": describe(u)}), flush=True)
    # No interpreter shutdown: the main thread that would run it is gone.
    os._exit(0)


def main():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    kept = [listener]
    started = {"event": threading.Event()}
    threading.Thread(target=worker, args=(started, kept)).start()
    started["event"].wait()
    report = {"pid": os.getpid(), "worker_tid": started["tid"]}
    report.update(describe(listener))
    print(json.dumps(report), flush=True)
    # ctypes releases the GIL around the call, so the worker keeps running the interpreter.
    libc = ctypes.CDLL(None)
    libc.pthread_exit(None)


if __name__ == "__main__":
    main()
