#!/usr/bin/env python3
"""bindcheck: what the kernel answers, for the can-bind differential test.

Used by tests/whatif_differential.rs. Standard library only. Run it as root, inside the
network namespace under test:

    ip netns exec NS python3 tests/helpers/bindcheck.py

It speaks JSON lines on stdin/stdout. The first line builds a host state:

    {"sysctls": {"net/ipv4/ip_nonlocal_bind": 0, ...},      # written under /proc/sys first
     "sockets": [SPEC, ...]}                                # made in order, kept open
    -> {"made": [{"result": "ok"|ERRNO, "at": "setsockopt"|"bind"|"listen"}, ...]}

Every later line is one candidate SPEC, tried at once and closed again:

    -> {"result": "ok"|ERRNO, "at": ...}

SPEC = {"proto": "tcp"|"udp", "family": 4|6, "addr", "port", "scope": IFNAME|null,
        "uid", "reuseaddr", "reuseport", "v6only": true|false|null, "freebind",
        "transparent", "device": IFNAME|null, "listen": bool}

A listening state socket may also ask for a connection, made once every state socket exists:
    "connect": true      a client connects (over loopback) and is kept
    "accept": true       the connection is accepted (else it waits in the accept queue)
    "time_wait": true    the accepted child closes first, then the client: the child's side
                         of the port ends in TIME_WAIT
    "close_listener": true   the listener is closed afterwards
The "made" entry then carries "connected": true|false.

Each socket is made by a forked child that drops to the spec's uid first, so the socket's
sk_uid is that uid. A state socket's fd comes back to this process over SCM_RIGHTS (the uid
travels with the socket), and it holds them all until stdin closes. A candidate's child
reports and exits, which closes the candidate socket at once.
"""

import errno
import json
import os
import socket
import sys
import time

from sockopts import set_bind_options


def become(uid):
    if os.geteuid() == uid:
        return
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def errname(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def attempt(spec):
    """Make the socket as the spec says. Returns (answer, socket or None)."""
    v6 = spec["family"] == 6
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    typ = socket.SOCK_STREAM if spec["proto"] == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(fam, typ)
    at = "setsockopt"
    try:
        set_bind_options(s, v6, spec.get("reuseaddr"), spec.get("reuseport"), spec.get("v6only"),
                         spec.get("freebind"), spec.get("transparent"), spec.get("device"))
        at = "bind"
        if v6:
            scope = 0
            if spec.get("scope"):
                try:
                    scope = socket.if_nametoindex(spec["scope"])
                except OSError:
                    # No such interface: the kernel gets an index nothing has.
                    scope = 999999
            s.bind((spec["addr"], spec["port"], 0, scope))
        else:
            s.bind((spec["addr"], spec["port"]))
        if spec["proto"] == "tcp" and spec.get("listen"):
            at = "listen"
            s.listen(8)
    except OSError as e:
        s.close()
        return {"result": errname(e), "at": at}, None
    return {"result": "ok", "at": at}, s


def in_child(spec, want_fd):
    """Run attempt() in a child of spec's uid. Returns (answer, fd or None)."""
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:
        try:
            parent.close()
            become(int(spec.get("uid", 0)))
            answer, s = attempt(spec)
            data = json.dumps(answer).encode()
            if s is not None and want_fd:
                socket.send_fds(child, [data], [s.fileno()])
            else:
                child.sendall(data)
        except BaseException as e:  # report, never hang the parent
            try:
                child.sendall(json.dumps({"result": "helper error: %r" % (e,), "at": "?"}).encode())
            except OSError:
                pass
        os._exit(0)
    child.close()
    fd = None
    if want_fd:
        data, fds, _, _ = socket.recv_fds(parent, 65536, 1)
        fd = fds[0] if fds else None
    else:
        data = parent.recv(65536)
    parent.close()
    os.waitpid(pid, 0)
    return json.loads(data.decode() or '{"result": "helper error: no answer", "at": "?"}'), fd


def connect_to(spec, lsock, held):
    """A loopback client for a listening state socket; True when it connected."""
    addr = spec["addr"]
    v6 = spec["family"] == 6
    if addr in ("0.0.0.0", "::ffff:0.0.0.0"):
        target, fam = "127.0.0.1", socket.AF_INET
    elif addr == "::":
        target, fam = "::1", socket.AF_INET6
    elif addr.startswith("::ffff:"):
        target, fam = addr[7:], socket.AF_INET
    else:
        target, fam = addr, (socket.AF_INET6 if v6 else socket.AF_INET)
    c = socket.socket(fam, socket.SOCK_STREAM)
    c.settimeout(1)
    try:
        c.connect((target, spec["port"]))
    except OSError:
        c.close()
        return False
    child = None
    if spec.get("accept"):
        lsock.settimeout(1)
        try:
            child, _ = lsock.accept()
        except OSError:
            child = None
    if child is not None and spec.get("time_wait"):
        child.close()
        time.sleep(0.02)
        c.close()
        time.sleep(0.02)
    else:
        held.append(c)
        if child is not None:
            held.append(child)
    return True


def main():
    held = []
    first = sys.stdin.readline()
    if not first:
        return 0
    state = json.loads(first)
    for path, value in (state.get("sysctls") or {}).items():
        with open("/proc/sys/" + path, "w") as f:
            f.write(str(value))
    made = []
    listeners = []
    for spec in state["sockets"]:
        answer, fd = in_child(spec, True)
        made.append(answer)
        if fd is not None:
            s = socket.socket(fileno=fd)
            held.append(s)
            if spec.get("connect") and answer["at"] == "listen":
                listeners.append((spec, s, answer))
    for spec, s, answer in listeners:
        answer["connected"] = connect_to(spec, s, held)
        if spec.get("close_listener"):
            held.remove(s)
            s.close()
    print(json.dumps({"made": made}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        answer, _ = in_child(json.loads(line), False)
        print(json.dumps(answer), flush=True)
    for s in held:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
