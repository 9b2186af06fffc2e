#!/usr/bin/env python3
"""lookup_probe: bind sockets on one port in a given order inside a private namespace, record
the sock_diag dump order, then send real traffic and record which socket receives it.

Standard library only; run as root. Used by run_lookup.py (the scenario table), but it can be
run alone:

    python3 tests/helpers/lookup/lookup_probe.py SCENARIO.json   # prints one JSON result

SCENARIO.json: {"proto": "tcp"|"udp", "port": 40001,
                "sockets": [{"n": "a", "f": 4|6, "a": "0.0.0.0", "ra": bool, "rp": bool,
                             "v6only": bool, "dev": "lo"|"vA"|null, "incpu": int|null}],
                "bind_order": ["a", "b"],      # the order bind() is called (UDP: hashing order)
                "listen_order": ["a", "b"],    # TCP: the order listen() is called (hashing order)
                "k": 24, "cpus": [0, 1]}
    or, instead of bind_order/listen_order, "ops": [["bind", "a"], ["listen", "a"], ["close", "a"],
    ["connect", "a", "10.99.0.2", 5555], ...] run in that order.

Network: two namespaces lk-<id>-a (the sockets) and lk-<id>-b (a peer), a veth pair
vA (10.99.0.1/24, fd99::1/64, fe80::a/64, in a) <-> vB (10.99.0.2/24, fd99::2/64, fe80::b/64,
in b). Both are
deleted on exit, also on error or signal. Traffic targets (each from every CPU in "cpus";
the sender is pinned with sched_setaffinity, and loopback/veth receive processing runs on the
sending CPU):
    v4 127.0.0.1 local | v4 10.99.0.1 local | v4 10.99.0.1 from b (arrives on vA)
    v6 ::1 local       | v6 fd99::1 local   | v6 fd99::1 from b   (arrives on vA)
    v6 fe80::a local (scope vA)             | v6 fe80::a from b   (arrives on vA)
"""

import ctypes
import json
import os
import random
import select
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import diagdump  # noqa: E402

CLONE_NEWNET = 0x40000000
SO_REUSEPORT = 15
SO_BINDTODEVICE = 25
SO_INCOMING_CPU = 49
IPV6_V6ONLY = 26
_libc = ctypes.CDLL(None, use_errno=True)


def setns_path(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e), path)
    finally:
        os.close(fd)


def sh(*args, check=True):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


class Env:
    """Two throwaway namespaces and a veth pair; always deleted."""

    def __init__(self):
        self.id = "%04x" % random.randrange(1 << 16)
        self.a = f"lk-{self.id}-a"
        self.b = f"lk-{self.id}-b"
        self.home = os.open("/proc/self/ns/net", os.O_RDONLY)
        self.created = []

    def __enter__(self):
        try:
            for ns in (self.a, self.b):
                sh("ip", "netns", "add", ns)
                self.created.append(ns)
            sh("ip", "link", "add", "vA", "netns", self.a, "type", "veth", "peer", "name", "vB",
               "netns", self.b)
            for ns, dev, v4, v6 in ((self.a, "vA", "10.99.0.1/24", "fd99::1/64"),
                                    (self.b, "vB", "10.99.0.2/24", "fd99::2/64")):
                sh("ip", "-n", ns, "link", "set", "lo", "up")
                sh("ip", "-n", ns, "addr", "add", v4, "dev", dev)
                sh("ip", "-n", ns, "addr", "add", v6, "dev", dev, "nodad")
                # A link-local address known in advance (besides the kernel's own): binds
                # to it carry a scope, so they are bound to the device (sk_bound_dev_if).
                ll = "fe80::a/64" if dev == "vA" else "fe80::b/64"
                sh("ip", "-n", ns, "addr", "add", ll, "dev", dev, "nodad")
                sh("ip", "-n", ns, "link", "set", dev, "up")
            # wait for the veth carrier and for the v6 addresses to be usable
            for _ in range(50):
                out = sh("ip", "-n", self.a, "-6", "addr", "show", "dev", "vA")
                if "tentative" not in out and "state UP" in sh("ip", "-n", self.a, "link", "show", "vA"):
                    break
                time.sleep(0.05)
            self.ifindex = {
                "lo": 1,
                "vA": int(sh("ip", "-n", self.a, "-o", "link", "show", "vA").split(":")[0]),
                "vB": int(sh("ip", "-n", self.b, "-o", "link", "show", "vB").split(":")[0]),
            }
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def enter(self, which):
        if which == "home":
            if _libc.setns(self.home, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns home")
        else:
            setns_path(f"/var/run/netns/{self.a if which == 'a' else self.b}")

    def __exit__(self, *exc):
        try:
            self.enter("home")
        except OSError:
            pass
        for ns in reversed(self.created):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        self.created = []
        return False


def make_socket(spec, proto, port):
    fam = socket.AF_INET if spec["f"] == 4 else socket.AF_INET6
    ty = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(fam, ty)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_V6ONLY, 1 if spec.get("v6only") else 0)
    if spec.get("ra"):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if spec.get("rp"):
        s.setsockopt(socket.SOL_SOCKET, SO_REUSEPORT, 1)
    if spec.get("dev"):
        s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, spec["dev"].encode() + b"\0")
    if spec.get("incpu") is not None:
        s.setsockopt(socket.SOL_SOCKET, SO_INCOMING_CPU, spec["incpu"])
    s.setblocking(False)
    return s


def sockaddr(env, addr, port, dev):
    """The address tuple for bind/connect/sendto: a link-local IPv6 address needs its
    scope, the index of the device it is reached through in the caller's namespace."""
    if addr.lower().startswith("fe80:"):
        return (addr, port, 0, env.ifindex[dev])
    return (addr, port)


def bind_addr(env, spec, port):
    """Where a spec binds: a link-local address is scoped to vA (its only home)."""
    return sockaddr(env, spec["a"], port, "vA")


def ss_order(proto, inode_name):
    """`ss -tlnpe` / `ss -ulnpe` (sock_diag, AF_INET then AF_INET6): names in printed order."""
    out = sh("ss", "-tlnpe" if proto == "tcp" else "-ulnpe")
    names = []
    for line in out.splitlines():
        for tok in line.split():
            if tok.startswith("ino:"):
                ino = int(tok[4:])
                if ino in inode_name:
                    names.append(inode_name[ino])
    return names, out


TARGETS = [
    # label, family, dst, from
    ("v4 127.0.0.1 local", 4, "127.0.0.1", "a"),
    ("v4 10.99.0.1 local", 4, "10.99.0.1", "a"),
    ("v4 10.99.0.1 peer", 4, "10.99.0.1", "b"),
    ("v6 ::1 local", 6, "::1", "a"),
    ("v6 fd99::1 local", 6, "fd99::1", "a"),
    ("v6 fd99::1 peer", 6, "fd99::1", "b"),
    ("v6 fe80::a local", 6, "fe80::a", "a"),
    ("v6 fe80::a peer", 6, "fe80::a", "b"),
]


def send_traffic(env, proto, port, socks, fam, dst, frm, k, cpu):
    """k probes from k distinct source ports; returns {name or 'none': count}."""
    af = socket.AF_INET if fam == 4 else socket.AF_INET6
    counts = {}
    env.enter(frm)
    ty = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    clients = [socket.socket(af, ty) for _ in range(k)]
    env.enter("a")
    os.sched_setaffinity(0, {cpu})
    try:
        by_fd = {s.fileno(): n for n, s in socks.items()}
        got = 0
        if proto == "tcp":
            pending = {}
            for c in clients:
                c.setblocking(False)
                try:
                    c.connect(sockaddr(env, dst, port, "vA" if frm == "a" else "vB"))
                    pending[c.fileno()] = c
                except (BlockingIOError, InterruptedError):
                    pending[c.fileno()] = c
                except OSError:
                    counts["none"] = counts.get("none", 0) + 1
            accepted = []
            established = 0
            deadline = time.time() + 2.0
            while (pending or got < established) and time.time() < deadline:
                r, w, _ = select.select(list(by_fd), list(pending), [], 0.05)
                for fd in w:
                    c = pending.pop(fd)
                    if c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                        counts["none"] = counts.get("none", 0) + 1
                    else:
                        established += 1
                for fd in r:
                    while True:
                        try:
                            conn, _peer = socks[by_fd[fd]].accept()
                        except (BlockingIOError, InterruptedError):
                            break
                        accepted.append(conn)
                        counts[by_fd[fd]] = counts.get(by_fd[fd], 0) + 1
                        got += 1
            for conn in accepted:
                conn.close()
            lost = k - got - counts.get("none", 0)
            if lost > 0:
                counts["lost"] = lost
        else:
            for i, c in enumerate(clients):
                c.bind(("0.0.0.0", 0) if fam == 4 else ("::", 0))
                try:
                    c.sendto(str(i).encode(), sockaddr(env, dst, port, "vA" if frm == "a" else "vB"))
                except OSError:
                    pass
            deadline = time.time() + 0.6
            while got < k and time.time() < deadline:
                r, _, _ = select.select(list(by_fd), [], [], 0.05)
                for fd in r:
                    while True:
                        try:
                            socks[by_fd[fd]].recvfrom(64)
                        except (BlockingIOError, InterruptedError):
                            break
                        counts[by_fd[fd]] = counts.get(by_fd[fd], 0) + 1
                        got += 1
            if got < k:
                counts["none"] = counts.get("none", 0) + (k - got)
    finally:
        os.sched_setaffinity(0, set(range(os.cpu_count())))
        for c in clients:
            c.close()
    return counts


def run(env, sc):
    proto, port = sc["proto"], sc["port"]
    specs = {s["n"]: s for s in sc["sockets"]}
    k = sc.get("k", 24)
    cpus = sc.get("cpus", [0, 1])
    env.enter("a")
    socks = {}
    errors = {}
    res = {"scenario": sc}
    try:
        ops = sc.get("ops")
        if ops is None:
            ops = [["bind", n] for n in sc["bind_order"]]
            if proto == "tcp":
                ops += [["listen", n] for n in sc.get("listen_order", sc["bind_order"])]
        bind_cpus = sc.get("bind_cpus")
        nbind = 0
        for op in ops:
            what, n = op[0], op[1]
            if what == "bind":
                spec = specs[n]
                if bind_cpus:
                    os.sched_setaffinity(0, {bind_cpus[nbind % len(bind_cpus)]})
                nbind += 1
                s = make_socket(spec, proto, port)
                try:
                    s.bind(bind_addr(env, spec, port))
                except OSError as e:
                    errors[n] = f"bind: {e.strerror}"
                    s.close()
                    continue
                socks[n] = s
            elif what == "listen" and n in socks:
                try:
                    socks[n].listen(64)
                except OSError as e:
                    errors[n] = f"listen: {e.strerror}"
                    socks.pop(n).close()
            elif what == "close" and n in socks:
                socks.pop(n).close()
            elif what == "connect" and n in socks:
                socks[n].connect((op[2], op[3]))
        os.sched_setaffinity(0, set(range(os.cpu_count())))
        inode_name = {os.fstat(s.fileno()).st_ino: n for n, s in socks.items()}
        ipp = socket.IPPROTO_TCP if proto == "tcp" else socket.IPPROTO_UDP

        def names(rows):
            return [inode_name[r["inode"]] for r in rows
                    if r["inode"] in inode_name and r["sport"] == port]

        res["errors"] = errors
        res["inode"] = {n: i for i, n in inode_name.items()}
        res["dump"] = {"v2_inet": names(diagdump.dump("v2", socket.AF_INET, ipp)),
                       "v2_inet6": names(diagdump.dump("v2", socket.AF_INET6, ipp))}
        if proto == "tcp":
            res["dump"]["compat"] = names(diagdump.dump("compat", 0, ipp))
        res["dump"]["ss"], _raw = ss_order(proto, inode_name)
        res["traffic"] = []
        fams = {specs[n]["f"] for n in socks}
        dual = any(specs[n]["f"] == 6 and not specs[n].get("v6only") for n in socks)
        for label, fam, dst, frm in TARGETS:
            if fam == 4 and 4 not in fams and not dual:
                continue
            if fam == 6 and 6 not in fams:
                continue
            for cpu in cpus:
                c = send_traffic(env, proto, port, socks, fam, dst, frm, k, cpu)
                res["traffic"].append({"target": label, "cpu": cpu, "counts": c})
        # the dump once more after traffic (does receiving reorder anything?)
        res["dump_after"] = {"v2_inet": names(diagdump.dump("v2", socket.AF_INET, ipp)),
                             "v2_inet6": names(diagdump.dump("v2", socket.AF_INET6, ipp))}
        if proto == "tcp":
            res["dump_after"]["compat"] = names(diagdump.dump("compat", 0, ipp))
    finally:
        for s in socks.values():
            s.close()
        env.enter("home")
    return res


def main():
    sc = json.load(open(sys.argv[1]))
    with Env() as env:
        print(json.dumps(run(env, sc)))


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    main()
