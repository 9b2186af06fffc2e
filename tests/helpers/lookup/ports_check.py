#!/usr/bin/env python3
"""ports_check: real binds in throwaway namespaces (lookup_probe.Env: a and b joined by a
veth, vA 10.99.0.1 / fd99::1 in a), `bindscope ports --format json` run inside a while the
sockets live, then real traffic (k connections or datagrams from distinct source ports, to
every target, locally and from b through the veth), and the receivers compared with the route
bindscope gave for each target. Root only; the namespaces are deleted, also on failure.

    python3 ports_check.py BINDSCOPE [--seed N] [--random N] [--named] [--k 8]

Prints one JSON object: {"seed", "scenarios", "routes", "uncertain", "wrong": [...],
"outputs": [every ports JSON]}. A route is wrong when it is certain and the receivers measured
are not its sockets, or uncertain and a receiver measured is not among its candidates.
"""

import argparse
import json
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lookup_probe as lp  # noqa: E402
import run_lookup as rl  # noqa: E402


def scenarios(args):
    out = []
    if args.named:
        for name, proto, socks, _extra in rl.SCENARIOS:
            names = [s["n"] for s in socks]
            for order in (names, list(reversed(names))):
                out.append((f"{name} {','.join(order)}", proto, socks, rl.ops_of(proto, order)))
    out += rl.random_cases(args.seed, args.random)
    return out


def bindscope_json(binary, argv):
    r = subprocess.run([binary] + argv, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"bindscope {' '.join(argv)}: exit {r.returncode}: {r.stderr}")
    return json.loads(r.stdout)


def route_for(group, fam, dst, dev):
    family = "ipv4" if fam == 4 else "ipv6"
    routes = [r for r in group["routes"] if r["family"] == family]
    to = dst if any(r["to"] == dst for r in routes) else None
    same = [r for r in routes if r["to"] == to]
    for r in same:
        if r["device"] == dev:
            return r
    for r in same:
        if r["device"] is None:
            return r
    return None


def one(env, binary, name, proto, socks, ops, k, port):
    specs = {s["n"]: s for s in socks}
    env.enter("a")
    live = {}
    try:
        for op in ops:
            what, n = op[0], op[1]
            if what == "bind":
                s = lp.make_socket(specs[n], proto, port)
                try:
                    s.bind(lp.bind_addr(env, specs[n], port))
                except OSError:
                    s.close()
                    continue
                live[n] = s
            elif what == "listen" and n in live:
                try:
                    live[n].listen(64)
                except OSError:
                    live.pop(n).close()
            elif what == "close" and n in live:
                live.pop(n).close()
        inode_name = {os.fstat(s.fileno()).st_ino: n for n, s in live.items()}
        # bindscope runs inside namespace a (this thread's netns is inherited).
        snap = bindscope_json(binary, ["snapshot", "-n", "current", "-f", "json"])
        ports = bindscope_json(binary, ["ports", "-n", "current", "-f", "json"])
        id_name = {s["id"]: inode_name[s["inode"]] for s in snap["sockets"]
                   if s["inode"] in inode_name and s["local_port"] == port}
        group = next((g for g in ports["ports"] if g["port"] == port and g["proto"] == proto), None)
        results = []
        # Every target, also of a family no socket takes: the route then says refused
        # (TCP) or dropped (UDP), and the kernel must deliver to nobody.
        for label, fam, dst, frm in lp.TARGETS:
            dev = rl.DEV_OF_TARGET[label][0]
            counts = lp.send_traffic(env, proto, port, live, fam, dst, frm, k, 0)
            measured = sorted(n for n, c in counts.items() if c > 0 and n not in ("none", "lost"))
            r = route_for(group, fam, dst, dev) if group else None
            if r is None:
                got, certain, how = [], True, "no port group"
            else:
                got = sorted(id_name.get(i, i) for i in r["sockets"])
                certain, how = r["certain"], r["how"]
            if certain:
                # A SO_REUSEPORT group (several sockets, certain) splits by a hash of the
                # 4-tuple: k probes may reach only some members, never a socket outside it.
                ok = measured == got or (len(got) > 1 and measured and set(measured) <= set(got))
            else:
                # Uncertain: the kernel's receivers are among the candidates, and when it
                # delivered to nobody the route must not have claimed a receiver.
                ok = all(m in got for m in measured) and (bool(measured) or not got)
            results.append({"target": label, "measured": measured, "route": got, "certain": certain,
                            "how": how, "ok": ok, "lost": counts.get("lost", 0)})
        return {"scenario": name, "proto": proto, "sockets": socks, "ops": ops, "live": sorted(live),
                "results": results, "ports": ports}
    finally:
        for s in live.values():
            s.close()
        env.enter("home")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--random", type=int, default=20)
    ap.add_argument("--named", action="store_true")
    ap.add_argument("--k", type=int, default=8)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("root only")
    out = {"seed": args.seed, "scenarios": 0, "routes": 0, "uncertain": 0, "wrong": [], "outputs": []}
    port = 41000
    with lp.Env() as env:
        for name, proto, socks, ops in scenarios(args):
            port += 1
            res = one(env, os.path.abspath(args.binary), name, proto, socks, ops, args.k, port)
            out["scenarios"] += 1
            out["outputs"].append(res["ports"])
            for r in res["results"]:
                out["routes"] += 1
                out["uncertain"] += 0 if r["certain"] else 1
                if not r["ok"]:
                    out["wrong"].append({"scenario": name, "ops": ops, "sockets": socks, **r})
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
