#!/usr/bin/env python3
"""diagdump: the raw sock_diag dump order, as the kernel emits it (standard library only).

Two kinds of dump request on NETLINK_SOCK_DIAG:
  * v2  (SOCK_DIAG_BY_FAMILY, struct inet_diag_req_v2): one family per request, as `ss` and
        bindscope's collector send them (ss: AF_INET first, then AF_INET6).
  * compat (TCPDIAG_GETSOCK = 18, struct inet_diag_req): the kernel sets sdiag_family =
        AF_UNSPEC (inet_diag_dump_compat), so ONE walk returns both families interleaved in
        hash-chain order. TCP only (inet_diag_type2proto knows TCP and DCCP).

Every reply is returned in arrival order: [{family, state, sport, src, ifindex, inode}].
Run it inside the namespace to dump (it uses the caller's network namespace).
"""

import socket
import struct

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
TCPDIAG_GETSOCK = 18
NLM_F_REQUEST = 0x1
NLM_F_DUMP = 0x300
NLMSG_DONE = 3
NLMSG_ERROR = 2

SOCKID = struct.Struct("!HH16s16s")  # sport, dport (be16), src, dst; then if, cookie (native)


def _sockid_zero():
    return SOCKID.pack(0, 0, b"\0" * 16, b"\0" * 16) + struct.pack("=III", 0, 0, 0)


def _request(kind, family, proto, states):
    if kind == "v2":
        body = struct.pack("=BBBBI", family, proto, 0, 0, states) + _sockid_zero()
        ty = SOCK_DIAG_BY_FAMILY
    elif kind == "compat":
        # struct inet_diag_req { u8 family, src_len, dst_len, ext; sockid id; u32 states, dbs; }
        body = struct.pack("=BBBB", family, 0, 0, 0) + _sockid_zero() + struct.pack("=II", states, 0)
        ty = TCPDIAG_GETSOCK
    else:
        raise ValueError(kind)
    hdr = struct.pack("=IHHII", 16 + len(body), ty, NLM_F_REQUEST | NLM_F_DUMP, 1, 0)
    return hdr + body


def _addr(family, raw):
    if family == socket.AF_INET:
        return socket.inet_ntop(socket.AF_INET, raw[:4])
    return socket.inet_ntop(socket.AF_INET6, raw)


def dump(kind, family, proto, states=0xFFFFFFFF):
    """kind: v2 | compat. family: AF_INET | AF_INET6 (compat: ignored, AF_UNSPEC walk)."""
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG)
    try:
        s.sendto(_request(kind, family, proto, states), (0, 0))
        out = []
        done = False
        while not done:
            data = s.recv(1 << 16)
            off = 0
            while off + 16 <= len(data):
                ln, ty, _fl, _seq, _pid = struct.unpack_from("=IHHII", data, off)
                if ln < 16:
                    break
                if ty == NLMSG_DONE:
                    done = True
                    break
                if ty == NLMSG_ERROR:
                    err = struct.unpack_from("=i", data, off + 16)[0]
                    raise OSError(-err, "sock_diag error")
                p = off + 16
                fam, state, _timer, _retrans = struct.unpack_from("=BBBB", data, p)
                sport, dport, src, dst = SOCKID.unpack_from(data, p + 4)
                ifindex, _c0, _c1 = struct.unpack_from("=III", data, p + 4 + SOCKID.size)
                _exp, _rq, _wq, uid, inode = struct.unpack_from("=IIIII", data, p + 4 + SOCKID.size + 12)
                out.append({"family": fam, "state": state, "sport": sport,
                            "src": _addr(fam, src), "ifindex": ifindex, "uid": uid,
                            "inode": inode})
                off += (ln + 3) & ~3
        return out
    finally:
        s.close()


if __name__ == "__main__":
    import json
    import sys
    proto = socket.IPPROTO_TCP if (sys.argv[1:2] or ["tcp"])[0] == "tcp" else socket.IPPROTO_UDP
    res = {"v2_inet": dump("v2", socket.AF_INET, proto),
           "v2_inet6": dump("v2", socket.AF_INET6, proto)}
    if proto == socket.IPPROTO_TCP:
        res["compat"] = dump("compat", 0, proto)
    print(json.dumps(res, indent=1))
