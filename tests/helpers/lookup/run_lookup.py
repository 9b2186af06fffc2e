#!/usr/bin/env python3
"""run_lookup: every scenario of docs/lookup/README.md, in every bind order, repeated, with the
sender pinned to each CPU; checks the dump order against the chain order the kernel source
predicts, and the receivers against a model of the kernel lookup that takes its chain order
from the dump. Root only; all traffic stays inside the throwaway namespaces of lookup_probe.

    python3 tests/helpers/lookup/run_lookup.py [--repeats 2] [--k 16] [--only NAME] \
        [--json OUT.json] [--markdown OUT.md]

The model (predict()) is the reference for the Rust implementation:
  * chain order: TCP: the compat (AF_UNSPEC) dump, one walk of lhash2 over both families.
    UDP: the per-family v2 dumps (udp_dump walks the port hash udptable->hash); the order
    between an IPv4 and an IPv6 socket of the same chain is unknown unless the IPv6 one has
    SO_REUSEPORT (then it is at the tail: sk_add_node_rcu / hlist_add_tail_rcu). Every
    interleaving is tried; if they disagree the route is uncertain.
  * passes: exact destination address first, then the wildcard (0.0.0.0 / ::).
  * score (v4 TCP, compute_score in inet_hashtables.c): (dev ? 2 : 1) + (AF_INET ? 1 : 0)
    + (sk_incoming_cpu == cpu); v6 TCP (inet6_hashtables.c): (dev ? 2 : 1) + cpu.
    v4 UDP (udp.c): (AF_INET ? 2 : 1) + 4 connected addr + 4 connected port + (dev ? 4 : 0)
    + cpu; v6 UDP (ipv6/udp.c): 0 + 1 + 1 + (dev ? 1 : 0) + cpu, best starts at -1.
  * walk: a socket replaces the best only with a strictly higher score; a SO_REUSEPORT socket
    that does returns its group's pick at once (the rest of the chain is not looked at).
"""

import argparse
import itertools
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lookup_probe as lp  # noqa: E402


def S(n, f, a, **kw):
    d = {"n": n, "f": f, "a": a}
    d.update(kw)
    return d


# name, proto, sockets, extra options. Every permutation of the sockets is a bind order.
SCENARIOS = [
    # ---- UDP: ties between identical binds
    ("U1 v4 RA pair", "udp", [S("a", 4, "0.0.0.0", ra=1), S("b", 4, "0.0.0.0", ra=1)], {}),
    ("U2 v6 RA pair", "udp", [S("a", 6, "::", ra=1), S("b", 6, "::", ra=1)], {}),
    ("U3 v6 RA + v6 RA+RP", "udp", [S("a", 6, "::", ra=1), S("b", 6, "::", ra=1, rp=1)], {}),
    ("U4 v4 RA + v4 RA+RP", "udp", [S("a", 4, "0.0.0.0", ra=1), S("b", 4, "0.0.0.0", ra=1, rp=1)], {}),
    ("U5 v4 RA x3", "udp", [S("a", 4, "0.0.0.0", ra=1), S("b", 4, "0.0.0.0", ra=1),
                            S("c", 4, "0.0.0.0", ra=1)], {}),
    ("U6 v6 RA+RP x2 + v6 RA", "udp", [S("a", 6, "::", ra=1, rp=1), S("b", 6, "::", ra=1, rp=1, dev="lo"),
                                       S("c", 6, "::", ra=1)], {}),
    # ---- UDP: family and device scores
    ("U7 v4 + dual", "udp", [S("a", 4, "0.0.0.0", ra=1), S("b", 6, "::", ra=1)], {}),
    ("U8 v4 + dual@vA", "udp", [S("a", 4, "0.0.0.0", ra=1), S("b", 6, "::", ra=1, dev="vA")], {}),
    ("U9 v4 + v4@vA + v4@lo", "udp", [S("a", 4, "0.0.0.0", ra=1), S("b", 4, "0.0.0.0", ra=1, dev="vA"),
                                      S("c", 4, "0.0.0.0", ra=1, dev="lo")], {}),
    ("U10 v4@vA + dual@vA", "udp", [S("a", 4, "0.0.0.0", dev="vA", ra=1), S("b", 6, "::", ra=1, dev="vA")], {}),
    ("U11 127.0.0.1 + v4@lo", "udp", [S("a", 4, "127.0.0.1", ra=1), S("b", 4, "0.0.0.0", ra=1, dev="lo")], {}),
    ("U12 v6only + v4", "udp", [S("a", 6, "::", v6only=1), S("b", 4, "0.0.0.0")], {}),
    # ---- UDP: SO_REUSEPORT groups and the early return
    ("U13 v4 RP group", "udp", [S("a", 4, "0.0.0.0", rp=1), S("b", 4, "0.0.0.0", rp=1)], {}),
    ("U14 v4 RP + v4 RP@vA", "udp", [S("a", 4, "0.0.0.0", rp=1), S("b", 4, "0.0.0.0", rp=1, dev="vA")], {}),
    ("U15 v6 RP + v6 RP@vA", "udp", [S("a", 6, "::", rp=1), S("b", 6, "::", rp=1, dev="vA")], {}),
    ("U16 v4 RA+RP + dual RA@vA", "udp", [S("a", 4, "0.0.0.0", ra=1, rp=1), S("b", 6, "::", ra=1, dev="vA")], {}),
    ("U17 v4 RA + dual RA+RP@vA", "udp", [S("a", 4, "0.0.0.0", ra=1), S("b", 6, "::", ra=1, rp=1, dev="vA")], {}),
    # ---- UDP: sk_incoming_cpu (SO_INCOMING_CPU) breaks ties
    ("U18 v4 RA pair, b incpu=1", "udp", [S("a", 4, "0.0.0.0", ra=1), S("b", 4, "0.0.0.0", ra=1, incpu=1)], {}),
    ("U19 v4 RA + dual RA incpu=1", "udp", [S("a", 4, "0.0.0.0", ra=1), S("b", 6, "::", ra=1, incpu=1)], {}),
    # ---- TCP (listeners that can coexist on overlapping devices need SO_REUSEPORT)
    ("T1 v4 RP group", "tcp", [S("a", 4, "0.0.0.0", rp=1), S("b", 4, "0.0.0.0", rp=1)], {}),
    ("T2 v4 RP + v4 RP@vA", "tcp", [S("a", 4, "0.0.0.0", rp=1), S("b", 4, "0.0.0.0", rp=1, dev="vA")], {}),
    ("T3 v4 RP + dual RP@vA", "tcp", [S("a", 4, "0.0.0.0", rp=1), S("b", 6, "::", rp=1, dev="vA")], {}),
    ("T4 v6 RP + v6 RP@vA", "tcp", [S("a", 6, "::", rp=1), S("b", 6, "::", rp=1, dev="vA")], {}),
    ("T5 v4 RP + dual RP", "tcp", [S("a", 4, "0.0.0.0", rp=1), S("b", 6, "::", rp=1)], {}),
    ("T6 v4 RP, @lo, @vA", "tcp", [S("a", 4, "0.0.0.0", rp=1), S("b", 4, "0.0.0.0", rp=1, dev="lo"),
                                   S("c", 4, "0.0.0.0", rp=1, dev="vA")], {}),
    ("T7 v4@lo + dual@vA (no options)", "tcp", [S("a", 4, "0.0.0.0", dev="lo"), S("b", 6, "::", dev="vA")], {}),
    ("T8 127.0.0.1 RP + v4 RP@lo", "tcp", [S("a", 4, "127.0.0.1", rp=1), S("b", 4, "0.0.0.0", rp=1, dev="lo")], {}),
    ("T9 v4 RP + v4 RP@vA incpu=0", "tcp", [S("a", 4, "0.0.0.0", rp=1), S("b", 4, "0.0.0.0", rp=1, dev="vA", incpu=0)], {}),
    ("T10 v6only RP + v6only RP@vA + v4 RP", "tcp", [S("a", 6, "::", rp=1, v6only=1), S("b", 6, "::", rp=1, v6only=1, dev="vA"),
                                                    S("c", 4, "0.0.0.0", rp=1)], {}),
]
# TCP: the chain is built at listen(), not bind(): bind in one order, listen in the other.
LISTEN_SWAP = ("T11 bind a,b listen b,a", "tcp",
               [S("a", 4, "0.0.0.0", rp=1), S("b", 4, "0.0.0.0", rp=1, dev="vA")], {})

DEV_OF_TARGET = {"v4 127.0.0.1 local": ("lo", 4, "127.0.0.1"), "v4 10.99.0.1 local": ("vA", 4, "10.99.0.1"),
                 "v4 10.99.0.1 peer": ("vA", 4, "10.99.0.1"), "v6 ::1 local": ("lo", 6, "::1"),
                 "v6 fd99::1 local": ("vA", 6, "fd99::1"), "v6 fd99::1 peer": ("vA", 6, "fd99::1"),
                 # measured: local traffic to a link-local address arrives on its device too
                 "v6 fe80::a local": ("vA", 6, "fe80::a"), "v6 fe80::a peer": ("vA", 6, "fe80::a")}


# ---------------------------------------------------------------- the model
def v4_view(s):
    """The IPv4 address a socket is hashed and matched under for IPv4 traffic, or None."""
    if s["f"] == 4:
        return s["a"]
    if s.get("v6only"):
        return None
    if s["a"] == "::":
        return "0.0.0.0"
    if s["a"].lower().startswith("::ffff:"):
        return s["a"][7:]
    return None  # native IPv6 address: sk_rcv_saddr = LOOPBACK4_IPV6, never matches


def norm6(a):
    import ipaddress
    return str(ipaddress.IPv6Address(a))


def dev_of(s):
    """The device a socket is bound to: SO_BINDTODEVICE, or a link-local address's scope
    (bind() sets sk_bound_dev_if from it; lookup_probe.bind_addr scopes them to vA)."""
    return s.get("dev") or ("vA" if s["a"].lower().startswith("fe80:") else None)


def score(proto, s, fam, dev, cpu):
    if dev_of(s) and dev_of(s) != dev:
        return -1
    c = 1 if s.get("incpu") == cpu else 0
    if proto == "tcp":
        base = 2 if dev_of(s) else 1
        return base + (1 if fam == 4 and s["f"] == 4 else 0) + c
    if fam == 4:
        return (2 if s["f"] == 4 else 1) + (4 if dev_of(s) else 0) + c
    return (1 if dev_of(s) else 0) + c


def group_of(s, socks):
    key = lambda x: (x["f"], bool(x.get("v6only")), dev_of(x), x["a"])  # noqa: E731
    return sorted(x["n"] for x in socks if x.get("rp") and key(x) == key(s))


def predict(proto, chain, socks, fam, dst, dev, cpu):
    by = {s["n"]: s for s in socks}
    for wild in (False, True):
        best = -1 if (proto == "udp" and fam == 6) else 0
        result = None
        for n in chain:
            s = by[n]
            if s.get("connected"):
                continue  # connected UDP: matches only its peer's address and port (not our probes)
            if fam == 4:
                a = v4_view(s)
                if a is None or a != ("0.0.0.0" if wild else dst):
                    continue
            else:
                if s["f"] != 6 or norm6(s["a"]) != (norm6("::") if wild else norm6(dst)):
                    continue
            sc = score(proto, s, fam, dev, cpu)
            if sc > best:
                if s.get("rp"):
                    return tuple(group_of(s, socks))
                result, best = (n,), sc
        if result:
            return result
    return ("none",)


def chain_orders(proto, dump, socks):
    by = {s["n"]: s for s in socks}
    if proto == "tcp":
        return [dump["compat"]]
    v4, v6 = dump["v2_inet"], dump["v2_inet6"]
    head6 = [n for n in v6 if not by[n].get("rp")]
    tail6 = [n for n in v6 if by[n].get("rp")]
    out = []
    for pos in itertools.combinations(range(len(v4) + len(head6)), len(v4)):
        merged, i4, i6 = [], 0, 0
        for i in range(len(v4) + len(head6)):
            if i in pos:
                merged.append(v4[i4]); i4 += 1  # noqa: E702
            else:
                merged.append(head6[i6]); i6 += 1  # noqa: E702
        out.append(merged + tail6)
    return out


def expected_chain(proto, order, socks):
    """The kernel's insertion rule: v6 SO_REUSEPORT at the tail, everything else at the head."""
    by = {s["n"]: s for s in socks}
    head = [n for n in order if not (by[n]["f"] == 6 and by[n].get("rp"))]
    tail = [n for n in order if by[n]["f"] == 6 and by[n].get("rp")]
    return list(reversed(head)) + tail


def ops_of(proto, order, listen_order=None):
    ops = [["bind", n] for n in order]
    if proto == "tcp":
        ops += [["listen", n] for n in (listen_order or order)]
    return ops


def expected_chain_ops(proto, ops, socks):
    """Simulate the kernel's insertions: UDP hashes at bind(), TCP listeners at listen();
    a v6 SO_REUSEPORT socket goes to the tail, any other to the head; close() unlinks."""
    by = {s["n"]: s for s in socks}
    chain = []
    for op in ops:
        what, n = op[0], op[1]
        if (what == "bind" and proto == "udp") or (what == "listen" and proto == "tcp"):
            if by[n]["f"] == 6 and by[n].get("rp"):
                chain.append(n)
            else:
                chain.insert(0, n)
        elif what == "close" and n in chain:
            chain.remove(n)
    return chain


def same_chain_key(s):
    a = v4_view(s) if s["f"] == 4 or s["a"] in ("::",) else s["a"]
    return "wild" if a in ("0.0.0.0",) else a


def check_dump(proto, res, socks, ops):
    """Dump order == expected chain order, compared within each hash chain (same address)."""
    by = {s["n"]: s for s in socks}
    exp = [n for n in expected_chain_ops(proto, ops, socks) if n in res["inode"]]
    verdicts = {}
    views = {"v2_inet": lambda n: by[n]["f"] == 4, "v2_inet6": lambda n: by[n]["f"] == 6}
    views["ss"] = None
    if proto == "tcp":
        views["compat"] = lambda n: True
    for view, flt in views.items():
        got = res["dump"][view]
        if view == "ss":  # ss: AF_INET dump then AF_INET6 dump; -l omits connected UDP sockets
            e = [n for n in exp if by[n]["f"] == 4] + [n for n in exp if by[n]["f"] == 6]
            e = [n for n in e if not by[n].get("connected")]
        else:
            e = [n for n in exp if flt(n)]
        ok = True
        for key in {same_chain_key(by[n]) for n in e}:
            if [n for n in got if same_chain_key(by[n]) == key] != [n for n in e if same_chain_key(by[n]) == key]:
                ok = False
        verdicts[view] = ok
    return exp, verdicts


# Scenarios given as explicit operations (close in the middle, connect).
OPS_SCENARIOS = [
    ("O1 udp close middle", "udp",
     [S("a", 4, "0.0.0.0", ra=1), S("b", 4, "0.0.0.0", ra=1), S("c", 4, "0.0.0.0", ra=1), S("d", 4, "0.0.0.0", ra=1)],
     [["bind", "a"], ["bind", "b"], ["bind", "c"], ["close", "b"], ["bind", "d"]]),
    ("O2 tcp close middle", "tcp",
     [S("a", 4, "0.0.0.0", rp=1), S("b", 4, "0.0.0.0", rp=1, dev="lo"), S("c", 4, "0.0.0.0", rp=1, dev="vA"),
      S("d", 4, "0.0.0.0", rp=1, dev="lo")],
     [["bind", "a"], ["listen", "a"], ["bind", "b"], ["listen", "b"], ["bind", "c"], ["listen", "c"],
      ["close", "b"], ["bind", "d"], ["listen", "d"]]),
    ("O3 udp connected member", "udp",
     [S("a", 4, "0.0.0.0", ra=1), S("b", 4, "0.0.0.0", ra=1, connected=1)],
     [["bind", "a"], ["bind", "b"], ["connect", "b", "10.99.0.2", 5555]]),
]

# Random mixes (seeded): every socket gets options under which all of them can coexist
# (UDP: all SO_REUSEADDR; TCP: all SO_REUSEPORT, same uid), then a random bind/listen order.
UDP_KINDS = [dict(f=4, a="0.0.0.0"), dict(f=4, a="0.0.0.0", rp=1), dict(f=4, a="0.0.0.0", dev="vA"),
             dict(f=4, a="0.0.0.0", dev="lo"), dict(f=4, a="0.0.0.0", rp=1, dev="vA"), dict(f=4, a="127.0.0.1"),
             dict(f=4, a="10.99.0.1"), dict(f=6, a="::"), dict(f=6, a="::", rp=1), dict(f=6, a="::", dev="vA"),
             dict(f=6, a="::", rp=1, dev="vA"), dict(f=6, a="::", v6only=1), dict(f=6, a="::1"),
             dict(f=6, a="fd99::1", rp=1), dict(f=6, a="::ffff:127.0.0.1"), dict(f=6, a="::", dev="lo", rp=1),
             dict(f=6, a="fe80::a"), dict(f=6, a="fe80::a", rp=1)]
TCP_KINDS = [dict(f=4, a="0.0.0.0"), dict(f=4, a="0.0.0.0", dev="vA"), dict(f=4, a="0.0.0.0", dev="lo"),
             dict(f=4, a="127.0.0.1"), dict(f=4, a="10.99.0.1", dev="vA"), dict(f=6, a="::"),
             dict(f=6, a="::", dev="vA"), dict(f=6, a="::", v6only=1), dict(f=6, a="::", dev="lo"),
             dict(f=6, a="::1"), dict(f=6, a="fd99::1"), dict(f=6, a="::ffff:10.99.0.1"), dict(f=6, a="fe80::a")]


def random_cases(seed, n):
    import random
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        proto = "udp" if i % 2 == 0 else "tcp"
        kinds = UDP_KINDS if proto == "udp" else TCP_KINDS
        socks = []
        for j in range(rnd.randint(3, 5)):
            k = dict(rnd.choice(kinds))
            if proto == "udp":
                k["ra"] = 1
            else:
                k["rp"] = 1
            socks.append(S("abcdefg"[j], k.pop("f"), k.pop("a"), **k))
        names = [x["n"] for x in socks]
        order = names[:]
        rnd.shuffle(order)
        ops = [["bind", n] for n in order]
        if proto == "tcp":
            lorder = names[:]
            rnd.shuffle(lorder)
            ops += [["listen", n] for n in lorder]
        if rnd.random() < 0.3:  # close one in the middle, then bind it again
            victim = rnd.choice(names)
            ops += [["close", victim], ["bind", victim]] + ([["listen", victim]] if proto == "tcp" else [])
        out.append((f"R{i + 1} seed{seed} {proto}", proto, socks, ops))
    return out


def cases(args):
    out = []
    for name, proto, socks, _extra in SCENARIOS + [LISTEN_SWAP]:
        orders = list(itertools.permutations([s["n"] for s in socks]))
        lorder = None
        if name.startswith("T11"):
            orders, lorder = [("a", "b")], ["b", "a"]
        for order in orders:
            out.append((name, proto, socks, ops_of(proto, list(order), lorder), list(order), args.repeats))
    for name, proto, socks, ops in OPS_SCENARIOS:
        out.append((name, proto, socks, ops, [o[1] for o in ops if o[0] == "bind"], args.repeats))
    for name, proto, socks, ops in random_cases(args.seed, args.random):
        out.append((name, proto, socks, ops, [o[1] for o in ops if o[0] == "bind"], 1))
    if args.only:
        out = [c for c in out if c[0].startswith(args.only)]
    return out


def run_all(args):
    rows = []
    port = 40100
    env = None
    last = None
    try:
        for name, proto, socks, ops, order, repeats in cases(args):
            if name != last:  # a fresh pair of namespaces for every scenario
                if env:
                    env.__exit__(None, None, None)
                env = lp.Env().__enter__()
                last = name
            for rep in range(repeats):
                port += 1
                # alternate the binding CPU, so inode order differs from bind order
                sc = {"proto": proto, "port": port, "sockets": socks, "ops": ops, "k": args.k,
                      "cpus": [0, 1], "bind_cpus": [rep % 2, 1 - rep % 2]}
                res = lp.run(env, sc)
                live = [s for s in socks if s["n"] in res["inode"]]
                exp, dump_ok = check_dump(proto, res, socks, ops)
                hashed = [o[1] for o in ops if o[0] == ("listen" if proto == "tcp" else "bind")]
                inode_order = sorted(res["inode"], key=lambda n: res["inode"][n])
                orders_c = chain_orders(proto, res["dump"], live)
                tr = []
                for t in res["traffic"]:
                    dev, fam, dst = DEV_OF_TARGET[t["target"]]
                    measured = tuple(sorted(n for n, c in t["counts"].items() if c > 0 and n != "lost"))
                    preds = {predict(proto, ch, live, fam, dst, dev, t["cpu"]) for ch in orders_c}
                    certain = len(preds) == 1
                    tr.append({"target": t["target"], "cpu": t["cpu"], "counts": t["counts"],
                               "measured": list(measured), "predicted": [list(p) for p in sorted(preds)],
                               "certain": certain,
                               "agree": (measured in preds) if not certain else (measured == next(iter(preds)))})
                row = {"scenario": name, "proto": proto, "sockets": socks, "ops": ops, "bind_order": order,
                       "repeat": rep, "errors": res["errors"], "dump": res["dump"],
                       "dump_after": res["dump_after"], "expected_chain": exp,
                       "dump_matches_chain": dump_ok, "inode_order": inode_order,
                       "inode_matches_hash_order": inode_order == [n for n in hashed if n in res["inode"]],
                       "traffic": tr}
                rows.append(row)
                bad = [x for x in tr if not x["agree"]]
                print(f"{name:40s} {','.join(order):10s} r{rep} dump={res['dump']} exp={exp} "
                      f"ok={all(dump_ok.values())} errs={res['errors']} model_bad={len(bad)}", flush=True)
    finally:
        if env:
            env.__exit__(None, None, None)
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--k", type=int, default=16)
    ap.add_argument("--only")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--random", type=int, default=0, help="this many random mixes (seeded)")
    ap.add_argument("--json")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("root only")
    rows = run_all(args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
