#!/usr/bin/env python3
"""mksockets: many processes holding many sockets, for bench/snapshot_bench.sh.

Run it as root inside the benchmark's network namespace:

    python3 bench/mksockets.py [--procs 300] [--sockets 50000] [--big 10000]

--procs worker processes share --sockets sockets; one of them (the "big" one, like a busy
proxy) holds --big of them, the others split the rest evenly. Each worker holds a mix:
TCP listeners (a few with clients waiting in the accept queue), bound-only TCP sockets,
unconnected UDP sockets, and established TCP pairs (both ends held by the worker). Workers
run as uids 0, 1001, 1002 and 65534 in turn. Every worker binds its own loopback address
(127.A.B.C), so the ports never clash.

When everything exists it prints one line, `READY {json counts}`, then waits until stdin
closes (or SIGTERM/SIGINT) and exits, killing its workers. Standard library only.
"""

import argparse
import ctypes
import json
import os
import resource
import signal
import socket
import sys

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
UIDS = (0, 1001, 1002, 65534)
_libc = ctypes.CDLL(None, use_errno=True)


def worker_addr(i):
    # 127.1.0.1, 127.1.0.2, ... (avoid .0 and .255 in the last byte)
    return "127.%d.%d.%d" % (1 + i // 62500, (i // 250) % 250, i % 250 + 1)


def mix(n):
    """Split n sockets: 30% listeners, 15% bound-only TCP, 30% UDP, the rest in pairs."""
    listeners = max(1, n * 30 // 100)
    bound = n * 15 // 100
    udp = n * 30 // 100
    pairs = (n - listeners - bound - udp) // 2
    udp += n - listeners - bound - udp - 2 * pairs  # an odd one out becomes UDP
    return listeners, bound, udp, pairs


def worker(i, n, ready_fd, parent):
    uid = UIDS[i % len(UIDS)]
    addr = worker_addr(i)
    listeners, bound, udp, pairs = mix(n)
    need = n + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(need, soft), max(need, hard)))
    if uid:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        _libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)
    held = []
    port = 10000
    lsocks = []
    for k in range(listeners):
        s = socket.socket()
        if k % 3 == 0:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        port += 1
        s.listen(128)
        if k % 2:
            s.setblocking(False)
        held.append(s)
        lsocks.append(s)
    for _ in range(bound):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        port += 1
        held.append(s)
    for _ in range(udp):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((addr, port))
        port += 1
        held.append(s)
    # Established pairs: connect to our own first listener and accept, in batches below the
    # backlog.
    target = lsocks[0]
    target.setblocking(True)
    done = 0
    while done < pairs:
        batch = min(64, pairs - done)
        clients = []
        for _ in range(batch):
            c = socket.socket()
            c.connect(target.getsockname())
            clients.append(c)
        for c in clients:
            a, _ = target.accept()
            held.extend((c, a))
        done += batch
    os.write(ready_fd, b"%d\n" % len(held))
    os.close(ready_fd)
    while True:
        signal.pause()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--procs", type=int, default=300)
    ap.add_argument("--sockets", type=int, default=50000)
    ap.add_argument("--big", type=int, default=10000, help="sockets of the one big process")
    a = ap.parse_args()
    if a.procs < 2 or a.sockets < a.procs * 8 or a.big >= a.sockets:
        ap.error("need procs >= 2, sockets >= 8 per process, big < sockets")
    if a.procs > 250 * 250:
        ap.error("too many processes")
    per = [(a.sockets - a.big) // (a.procs - 1)] * (a.procs - 1)
    for k in range((a.sockets - a.big) - sum(per)):
        per[k] += 1
    per = [a.big] + per

    pids = []

    def cleanup(*_):
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in pids:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass

    def on_signal(*_):
        cleanup()
        os._exit(1)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)

    me = os.getpid()
    pipes = []
    for i, n in enumerate(per):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            for pr in pipes:
                os.close(pr)
            try:
                worker(i, n, w, me)
            except BaseException as e:
                sys.stderr.write("worker %d: %s\n" % (i, e))
            os._exit(1)
        os.close(w)
        pids.append(pid)
        pipes.append(r)
    total = 0
    for i, r in enumerate(pipes):
        data = b""
        while True:
            chunk = os.read(r, 64)
            if not chunk:
                break
            data += chunk
        os.close(r)
        if not data.strip():
            sys.stdout.write("FAILED worker %d did not start\n" % i)
            sys.stdout.flush()
            cleanup()
            return 1
        total += int(data)
    sys.stdout.write("READY %s\n" % json.dumps({"processes": len(pids), "sockets": total,
                                                 "big": a.big}))
    sys.stdout.flush()
    try:
        while sys.stdin.buffer.read(65536):
            pass
    finally:
        cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
