#!/usr/bin/env python3
"""sockmaker: create real sockets with real options, held by processes of chosen uids.

Used by the privileged integration tests (tests/snapshot_privileged.rs). Standard library
only. Run it as root, inside the network namespace under test:

    ip netns exec NS python3 tests/helpers/sockmaker.py SPEC.json

SPEC.json:
    {"sockets": [
      {"name": "web",              # unique, used in the report and in commands
       "proto": "tcp",             # tcp | udp
       "family": 4,                # 4 | 6
       "addr": "0.0.0.0",
       "port": 0,                  # 0: any free port
       "port_of": "other",         # optional: the port another (earlier) socket got
       "options": {"reuseaddr": true, "reuseport": true, "v6only": true,
                   "freebind": true, "transparent": true, "defer_accept": 5,
                   "fastopen": 5, "bind_device": "lo", "nonblocking": true},
       "listen": 8,                # backlog; null or absent: bound only (TCP); ignored for UDP
       "uid": 1001,                # create it as this uid (gid = uid unless "gid")
       "group": "x",               # optional: a separate process for the same uid
       "comm": "nginx",            # optional: the process name of the group (first socket's)
       "extra_holder_uid": 1002,   # optional: a forked child that drops to this uid also holds it
       "clients": 3,               # optional: connect this many clients (separate process)
       "clients_send": false}      # the clients send one byte after connecting
    ]}

Sockets are grouped by (uid, group); one process per group creates and holds its sockets,
in spec order, groups in order of first appearance. Once everything exists it prints ONE
JSON line on stdout:

    {"pid": PARENT, "sockets": [{"name", "proto", "family", "addr", "port", "fd", "inode",
      "cookie", "uid", "pid", "comm", "holders": [{"pid", "fd", "uid", "comm"}],
      "clients_pid", "effective": {options read back with getsockopt},
      "accept_queue": {"len", "backlog"} | null}], "clients": [pids]}

or {"error": "..."} and exit status 1. Then it reads commands on stdin, one per line:

    close NAME   the socket is closed by every process holding it; reply {"closed": NAME}

and exits, killing every process it started, when stdin closes or on SIGTERM/SIGINT.
"""

import ctypes
import fcntl
import json
import os
import signal
import socket
import struct
import sys
import time
import traceback

from sockopts import (IP_FREEBIND, IP_TRANSPARENT, IPV6_FREEBIND, IPV6_TRANSPARENT,
                      SO_BINDTODEVICE, SO_REUSEPORT, SOL_IP, SOL_IPV6, set_bind_options)

SO_COOKIE = 57
TCP_DEFER_ACCEPT = 9
TCP_INFO = 11
TCP_FASTOPEN = 23
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_NAME = 15

_libc = ctypes.CDLL(None, use_errno=True)


def prctl(option, arg):
    if _libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "prctl(%d): %s" % (option, os.strerror(err)))


def set_comm(name):
    buf = ctypes.create_string_buffer(name.encode()[:15])
    _libc.prctl(PR_SET_NAME, buf, 0, 0, 0)


def die_with_parent(parent_pid):
    """SIGKILL when the parent dies. Set after setuid: a credential change clears it."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:
        os._exit(1)


def become(uid, gid):
    if os.geteuid() == uid and os.getegid() == gid:
        return
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    # A credential change makes the process non-dumpable, which hands its /proc files to
    # root. A service started as this uid would be dumpable: behave like one.
    prctl(PR_SET_DUMPABLE, 1)


def write_line(fd, obj):
    data = (json.dumps(obj) + "\n").encode()
    while data:
        n = os.write(fd, data)
        data = data[n:]


class LineReader:
    def __init__(self, fd):
        self.fd = fd
        self.buf = b""

    def readline(self):
        """A line without its newline, or None at EOF."""
        while b"\n" not in self.buf:
            try:
                chunk = os.read(self.fd, 65536)
            except InterruptedError:
                continue
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()


def flag(sock, level, opt):
    return bool(sock.getsockopt(level, opt))


def effective_options(sock, spec):
    """What the kernel says now: read back, so tests compare with the truth (the kernel
    rounds TCP_DEFER_ACCEPT, for one)."""
    v6 = spec["family"] == 6
    tcp = spec["proto"] == "tcp"
    eff = {
        "reuseaddr": flag(sock, socket.SOL_SOCKET, socket.SO_REUSEADDR),
        "reuseport": flag(sock, socket.SOL_SOCKET, SO_REUSEPORT),
        "v6only": flag(sock, SOL_IPV6, socket.IPV6_V6ONLY) if v6 else None,
        "freebind": flag(sock, SOL_IPV6, IPV6_FREEBIND) if v6 else flag(sock, SOL_IP, IP_FREEBIND),
        "transparent": flag(sock, SOL_IPV6, IPV6_TRANSPARENT) if v6 else flag(sock, SOL_IP, IP_TRANSPARENT),
        "nonblocking": bool(fcntl.fcntl(sock.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK),
        "defer_accept": sock.getsockopt(socket.IPPROTO_TCP, TCP_DEFER_ACCEPT) if tcp else None,
        "fastopen": sock.getsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN) if tcp else None,
    }
    dev = sock.getsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, 16).split(b"\0", 1)[0]
    eff["bind_device"] = dev.decode() if dev else None
    return eff


def accept_queue(sock):
    """TCP_INFO on a listener: tcpi_unacked = accept queue length, tcpi_sacked = backlog."""
    info = sock.getsockopt(socket.IPPROTO_TCP, TCP_INFO, 104)
    unacked, sacked = struct.unpack_from("II", info, 24)
    return {"len": unacked, "backlog": sacked}


def make_socket(spec, ports):
    fam = socket.AF_INET6 if spec["family"] == 6 else socket.AF_INET
    typ = socket.SOCK_STREAM if spec["proto"] == "tcp" else socket.SOCK_DGRAM
    opts = spec.get("options") or {}
    s = socket.socket(fam, typ)
    v6 = fam == socket.AF_INET6
    set_bind_options(s, v6, opts.get("reuseaddr"), opts.get("reuseport"), opts.get("v6only"),
                     opts.get("freebind"), opts.get("transparent"), opts.get("bind_device"))
    port = spec.get("port") or 0
    if spec.get("port_of"):
        port = ports[spec["port_of"]]
    s.bind((spec["addr"], port))
    if spec["proto"] == "tcp" and spec.get("listen") is not None:
        if opts.get("defer_accept"):
            s.setsockopt(socket.IPPROTO_TCP, TCP_DEFER_ACCEPT, int(opts["defer_accept"]))
        if opts.get("fastopen"):
            s.setsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN, int(opts["fastopen"]))
        s.listen(int(spec["listen"]))
    # Python sockets without a timeout are blocking: O_NONBLOCK is off unless asked for.
    if opts.get("nonblocking"):
        s.setblocking(False)
    return s


def connect_target(spec, port):
    addr = spec["addr"]
    if addr in ("0.0.0.0", ""):
        addr = "127.0.0.1"
    elif addr == "::":
        addr = "::1"
    fam = socket.AF_INET6 if spec["family"] == 6 else socket.AF_INET
    return fam, addr, port


def run_clients(jobs, own_socks, report_fd, parent_pid):
    """Child process: connect the clients, never send unless asked, hold them."""
    die_with_parent(parent_pid)
    set_comm("sm-cli")
    for s in own_socks:
        s.close()  # the client process must not hold the listeners
    held = []
    try:
        for spec, port in jobs:
            fam, addr, port = connect_target(spec, port)
            for _ in range(int(spec.get("clients") or 0)):
                c = socket.socket(fam, socket.SOCK_STREAM)
                c.settimeout(5)
                if spec.get("options", {}).get("bind_device"):
                    c.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, spec["options"]["bind_device"].encode())
                c.connect((addr, port))
                if spec.get("clients_send"):
                    c.send(b"x")
                held.append(c)
        write_line(report_fd, {"ok": True, "pid": os.getpid()})
    except Exception as e:  # report, then exit
        write_line(report_fd, {"error": "clients: %s" % e})
        os._exit(1)
    os.close(report_fd)
    while True:
        signal.pause()


def hold_extra(keep, others, uid, comm, report_fd, parent_pid):
    """Child process: drop to another uid and hold one socket."""
    try:
        for s in others:
            s.close()
        become(uid, uid)
        die_with_parent(parent_pid)
        set_comm(comm)
        write_line(report_fd, {"ok": True, "pid": os.getpid()})
    except Exception as e:
        write_line(report_fd, {"error": "extra holder: %s" % e})
        os._exit(1)
    os.close(report_fd)
    _ = keep
    while True:
        signal.pause()


def spawn(target, *args):
    """Fork a child that runs target(..., report_fd, parent_pid); return (pid, report)."""
    r, w = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            target(*args, w, parent)
        except BaseException:
            traceback.print_exc()
        os._exit(1)
    os.close(w)
    line = LineReader(r).readline()
    os.close(r)
    report = json.loads(line) if line else {"error": "child %d died before reporting" % pid}
    return pid, report


def group_main(key, specs, ports, cmd_fd, res_fd, parent_pid):
    """One process per (uid, group): create the sockets, report, then obey commands."""
    uid = specs[0].get("uid", 0)
    gid = specs[0].get("gid", uid)
    children = []

    def kill_children(*_):
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in children:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        os._exit(0)

    signal.signal(signal.SIGTERM, kill_children)
    try:
        become(uid, gid)
        die_with_parent(parent_pid)
        comm = specs[0].get("comm") or "sm-u%d" % uid
        set_comm(comm)
        socks = {}
        reports = []
        for spec in specs:
            s = make_socket(spec, ports)
            socks[spec["name"]] = s
            port = s.getsockname()[1]
            ports[spec["name"]] = port
            reports.append({
                "name": spec["name"], "proto": spec["proto"], "family": spec["family"],
                "addr": spec["addr"], "port": port, "fd": s.fileno(),
                "inode": os.fstat(s.fileno()).st_ino,
                "cookie": struct.unpack("Q", s.getsockopt(socket.SOL_SOCKET, SO_COOKIE, 8))[0],
                "uid": os.geteuid(), "pid": os.getpid(), "comm": comm,
                "holders": [{"pid": os.getpid(), "fd": s.fileno(), "uid": os.geteuid(),
                             "comm": comm}],
                "clients_pid": None,
            })
        extra = {}  # name -> pid of the extra holder
        for spec, rep in zip(specs, reports):
            xuid = spec.get("extra_holder_uid")
            if xuid is None:
                continue
            keep = socks[spec["name"]]
            others = [s for n, s in socks.items() if n != spec["name"]]
            xcomm = comm if specs[0].get("comm") else "sm-x%d" % int(xuid)
            pid, rep_x = spawn(hold_extra, keep, others, int(xuid), xcomm)
            children.append(pid)
            if "error" in rep_x:
                raise RuntimeError(rep_x["error"])
            extra[spec["name"]] = pid
            rep["holders"].append({"pid": pid, "fd": rep["fd"], "uid": int(xuid),
                                   "comm": xcomm})
        jobs = [(spec, rep["port"]) for spec, rep in zip(specs, reports) if spec.get("clients")]
        if jobs:
            pid, rep_c = spawn(run_clients, jobs, list(socks.values()))
            children.append(pid)
            if "error" in rep_c:
                raise RuntimeError(rep_c["error"])
            for spec, rep in zip(specs, reports):
                if spec.get("clients"):
                    rep["clients_pid"] = pid
        for spec, rep in zip(specs, reports):
            rep["effective"] = effective_options(socks[spec["name"]], spec)
            rep["accept_queue"] = None
            if spec["proto"] == "tcp" and spec.get("listen") is not None:
                # Wait until the handshakes the clients started are where they will stay:
                # in the accept queue, or (TCP_DEFER_ACCEPT, nothing sent) in the SYN queue.
                n = int(spec.get("clients") or 0)
                deferred = (spec.get("options") or {}).get("defer_accept") and not spec.get("clients_send")
                want = 0 if deferred else n
                deadline = time.monotonic() + 5
                while accept_queue(socks[spec["name"]])["len"] != want and time.monotonic() < deadline:
                    time.sleep(0.02)
                rep["accept_queue"] = accept_queue(socks[spec["name"]])
        write_line(res_fd, {"ok": True, "sockets": reports, "children": children})
    except Exception as e:
        write_line(res_fd, {"error": "group uid %s: %s: %s" % (key, type(e).__name__, e)})
        kill_children()

    reader = LineReader(cmd_fd)
    while True:
        line = reader.readline()
        if line is None:
            kill_children()
        words = line.split()
        if len(words) == 2 and words[0] == "close" and words[1] in socks:
            name = words[1]
            if name in extra:
                os.kill(extra[name], signal.SIGKILL)
                os.waitpid(extra[name], 0)
                children.remove(extra.pop(name))
            socks.pop(name).close()
            write_line(res_fd, {"closed": name})
        else:
            write_line(res_fd, {"error": "bad command %r" % line})


def main():
    if len(sys.argv) != 2:
        print("usage: sockmaker.py SPEC.json", file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    sockets = spec["sockets"]
    names = [s["name"] for s in sockets]
    if len(set(names)) != len(names):
        print(json.dumps({"error": "duplicate socket names"}), flush=True)
        return 1

    groups = {}  # key -> [spec], in order of first appearance
    for s in sockets:
        key = "%d/%s" % (int(s.get("uid", 0)), s.get("group", ""))
        groups.setdefault(key, []).append(s)

    procs = {}  # key -> (pid, cmd_fd, reader)
    owner = {}  # socket name -> group key
    all_pids = []
    cleaning = []

    def cleanup(*_):
        if cleaning:
            return
        cleaning.append(True)
        for pid, cmd_fd, _ in procs.values():
            try:
                os.close(cmd_fd)
            except OSError:
                pass
        for pid in all_pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid, _, _ in procs.values():
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass

    def on_signal(*_):
        cleanup()
        os._exit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    ports = {}
    out = []
    client_pids = []
    try:
        for key, specs in groups.items():
            cmd_r, cmd_w = os.pipe()
            res_r, res_w = os.pipe()
            parent = os.getpid()
            pid = os.fork()
            if pid == 0:
                os.close(cmd_w)
                os.close(res_r)
                for _, other_cmd, other_reader in procs.values():
                    os.close(other_cmd)
                    os.close(other_reader.fd)
                try:
                    group_main(key, specs, ports, cmd_r, res_w, parent)
                except BaseException:
                    traceback.print_exc()
                os._exit(1)
            os.close(cmd_r)
            os.close(res_w)
            reader = LineReader(res_r)
            procs[key] = (pid, cmd_w, reader)
            all_pids.append(pid)
            line = reader.readline()
            rep = json.loads(line) if line else {"error": "group %s died" % key}
            if "error" in rep:
                raise RuntimeError(rep["error"])
            all_pids.extend(rep["children"])
            for r in rep["sockets"]:
                ports[r["name"]] = r["port"]
                owner[r["name"]] = key
                if r["clients_pid"] and r["clients_pid"] not in client_pids:
                    client_pids.append(r["clients_pid"])
                out.append(r)
    except Exception as e:
        print(json.dumps({"error": str(e)}), flush=True)
        cleanup()
        return 1

    order = {n: i for i, n in enumerate(names)}
    out.sort(key=lambda r: order[r["name"]])
    print(json.dumps({"pid": os.getpid(), "sockets": out, "clients": client_pids}), flush=True)

    try:
        stdin = LineReader(sys.stdin.fileno())
        while True:
            line = stdin.readline()
            if line is None:
                break
            words = line.split()
            if not words:
                continue
            if len(words) == 2 and words[0] == "close" and words[1] in owner:
                _, cmd_fd, reader = procs[owner[words[1]]]
                os.write(cmd_fd, (" ".join(words) + "\n").encode())
                reply = reader.readline()
                print(reply if reply else json.dumps({"error": "group died"}), flush=True)
            else:
                print(json.dumps({"error": "bad command %r" % line}), flush=True)
    finally:
        cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
