#!/usr/bin/env python3
"""rebind: a service that closes its socket and binds the same port again at once, over and
over, counting the binds that fail with EADDRINUSE.

Used by tests/chaos_privileged.rs to measure the hazard of linux-bind-semantics.md §9:
while an inspector holds a pidfd_getfd(2) duplicate of the socket, the close does not release
the port, and the immediate rebind fails. Standard library only. Run inside the namespace
under test:

    ip netns exec NS python3 tests/helpers/rebind.py PROTO SECONDS HOLD_MS WORKERS

PROTO is tcp (SO_REUSEADDR, bind, listen) or udp (bind). WORKERS processes each churn one
port of 127.0.0.1 (the port its first bind got from the kernel): make a socket, bind (and
listen), hold it for a random time in [0, HOLD_MS] ms (0: close at once), close, again. A
bind that fails with EADDRINUSE is counted and retried every 0.2 ms until it succeeds. Many
workers and short holds give many sockets whose close can fall into an inspector's window.

The parent also holds one steady socket, made like the workers' (127.0.0.1, any port), for
the whole run: the control whose options an inspector should read.
It prints one JSON line once every worker has bound its first socket:

    {"ready": true, "pid": PARENT, "workers": [{"pid", "port"}],
     "steady": {"port", "inode"}}

and one when SECONDS have passed (or stdin closes, which ends the run early):

    {"cycles": N, "eaddrinuse": N, "longest_blocked_ms": F, "workers": N}

Every worker is a child of the parent and exits when the parent's pipe to it closes, so
killing the parent (SIGKILL included) ends the run.
"""

import errno
import json
import os
import random
import select
import socket
import sys
import time


def make(proto):
    if proto == "tcp":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # What a restarting service sets so TIME_WAIT leftovers do not block it; a LISTEN
        # socket on the port (the orphan a duplicate keeps) still does (inet_csk_get_port).
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    return s


def bind(proto, port):
    s = make(proto)
    s.bind(("127.0.0.1", port))
    if proto == "tcp":
        s.listen(16)
    return s


def churn(proto, seconds, hold_ms, ready_w, result_w, stop_r):
    """One worker: churn one port until `seconds` pass or the parent goes away."""
    s = bind(proto, 0)
    port = s.getsockname()[1]
    os.write(ready_w, (json.dumps({"pid": os.getpid(), "port": port}) + "\n").encode())
    cycles = 0
    failures = 0
    longest = 0.0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        # The parent's end of `stop_r` closes when it exits or is killed: stop then too.
        pause = random.uniform(0.0, hold_ms) / 1000.0 if hold_ms > 0 else 0.0
        r, _, _ = select.select([stop_r], [], [], pause)
        if r:
            break
        s.close()
        cycles += 1
        blocked_since = None
        while True:
            try:
                s = bind(proto, port)
                break
            except OSError as e:
                if e.errno != errno.EADDRINUSE:
                    raise
                if blocked_since is None:
                    blocked_since = time.monotonic()
                    failures += 1
                time.sleep(0.0002)
        if blocked_since is not None:
            longest = max(longest, (time.monotonic() - blocked_since) * 1000.0)
    s.close()
    os.write(result_w, (json.dumps({"cycles": cycles, "eaddrinuse": failures,
                                    "longest_blocked_ms": longest}) + "\n").encode())


def main():
    proto = sys.argv[1]
    seconds = float(sys.argv[2])
    hold_ms = float(sys.argv[3])
    workers = int(sys.argv[4])
    ready_r, ready_w = os.pipe()
    result_r, result_w = os.pipe()
    stop_r, stop_w = os.pipe()
    pids = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            os.close(stop_w)
            code = 0
            try:
                churn(proto, seconds, hold_ms, ready_w, result_w, stop_r)
            except BaseException as e:  # report, never fall back into the parent's code
                os.write(result_w, (json.dumps({"error": repr(e)}) + "\n").encode())
                code = 1
            os._exit(code)
        pids.append(pid)
    os.close(ready_w)
    os.close(result_w)
    os.close(stop_r)
    # After the forks, so that only the parent holds it.
    steady = bind(proto, 0)
    link = os.readlink(f"/proc/self/fd/{steady.fileno()}")
    steady_info = {"port": steady.getsockname()[1], "inode": int(link[len("socket:["):-1])}
    ready = os.fdopen(ready_r)
    started = [json.loads(ready.readline()) for _ in range(workers)]
    print(json.dumps({"ready": True, "pid": os.getpid(), "workers": started,
                      "steady": steady_info}), flush=True)
    # Wait for the workers to finish, or for stdin to close (then stop them early).
    results = os.fdopen(result_r)
    while True:
        r, _, _ = select.select([sys.stdin, results], [], [])
        if sys.stdin in r and not sys.stdin.buffer.read1(1):
            os.close(stop_w)
            stop_w = None
            break
        if results in r:
            break
    lines = [json.loads(results.readline()) for _ in range(workers)]
    for pid in pids:
        os.waitpid(pid, 0)
    errors = [l["error"] for l in lines if "error" in l]
    if errors:
        print(json.dumps({"error": errors[0]}), flush=True)
        sys.exit(1)
    print(json.dumps({
        "cycles": sum(l["cycles"] for l in lines),
        "eaddrinuse": sum(l["eaddrinuse"] for l in lines),
        "longest_blocked_ms": round(max(l["longest_blocked_ms"] for l in lines), 3),
        "workers": workers,
    }), flush=True)


if __name__ == "__main__":
    main()
