#!/usr/bin/env python3
"""make_tables: Markdown tables from a run_lookup.py --json file.

    python3 tests/helpers/lookup/make_tables.py RESULTS.json > docs/lookup/results.md

One row per (scenario, operation order), runs of the same order merged (the cell says so when
repeats disagreed). Receivers per target: `a` one socket, `a+b` a SO_REUSEPORT split, `none`
refused / not delivered; `cpu0:x cpu1:y` when the sending CPU changed the receiver.
"""

import collections
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_lookup import check_dump  # noqa: E402

SHORT = {"v4 127.0.0.1 local": "4:127.0.0.1", "v4 10.99.0.1 local": "4:10.99.0.1 local",
         "v4 10.99.0.1 peer": "4:10.99.0.1 peer", "v6 ::1 local": "6:::1",
         "v6 fd99::1 local": "6:fd99::1 local", "v6 fd99::1 peer": "6:fd99::1 peer"}


def sock_desc(s):
    a = s["a"] if s["f"] == 4 else f"[{s['a']}]"
    opts = [o.upper() for o in ("ra", "rp") if s.get(o)]
    if s.get("v6only"):
        opts.append("V6ONLY")
    if s["f"] == 6 and not s.get("v6only") and s["a"] == "::":
        opts.append("dual")
    if s.get("dev"):
        opts.append("@" + s["dev"])
    if s.get("incpu") is not None:
        opts.append(f"incpu={s['incpu']}")
    if s.get("connected"):
        opts.append("connected")
    return f"{s['n']}={a}" + (" " + ",".join(opts) if opts else "")


def ops_desc(ops):
    out = []
    for op in ops:
        if op[0] == "bind":
            out.append(op[1])
        elif op[0] == "listen":
            out.append(f"L{op[1]}")
        elif op[0] == "close":
            out.append(f"x{op[1]}")
        elif op[0] == "connect":
            out.append(f"c{op[1]}")
    return " ".join(out)


def main():
    rows = json.load(open(sys.argv[1]))
    groups = collections.OrderedDict()
    for r in rows:
        groups.setdefault((r["scenario"], json.dumps(r["ops"])), []).append(r)
    last_sc = None
    print("| scenario | sockets | ops (bind order; L=listen, x=close) | chain expected (source) | dump v4 / v6 / compat | dump = chain | receivers | model |")
    print("|---|---|---|---|---|---|---|---|")
    for (sc, _ops), rs in groups.items():
        r0 = rs[0]
        dumps = {json.dumps(r["dump"], sort_keys=True) for r in rs}
        d = r0["dump"]
        dump_s = " / ".join(",".join(d.get(k, [])) or "-" for k in ("v2_inet", "v2_inet6", "compat")
                            if k in d)
        if len(dumps) > 1:
            dump_s += " (repeats differ!)"
        # re-checked here with the current rules of run_lookup.check_dump
        ok = all(all(check_dump(r["proto"], dict(r, inode={n: 0 for n in r["inode_order"]}), r["sockets"],
                                r["ops"])[1].values()) for r in rs)
        recv = collections.OrderedDict()
        for r in rs:
            for t in r["traffic"]:
                recv.setdefault(t["target"], {}).setdefault(t["cpu"], set()).add("+".join(t["measured"]) or "none")
        cells = []
        for tgt, by_cpu in recv.items():
            per = {c: "/".join(sorted(v)) for c, v in by_cpu.items()}
            vals = set(per.values())
            v = vals.pop() if len(vals) == 1 else " ".join(f"cpu{c}:{x}" for c, x in per.items())
            cells.append(f"{SHORT[tgt]}→{v}")
        agree = all(t["agree"] for r in rs for t in r["traffic"])
        unc = sum(1 for r in rs for t in r["traffic"] if not t["certain"])
        model = ("ok" if agree else "WRONG") + (f", {unc} uncertain" if unc else "")
        errs = {k: v for r in rs for k, v in r["errors"].items()}
        socks = "; ".join(sock_desc(s) for s in r0["sockets"])
        if errs:
            socks += " — errors: " + ", ".join(f"{k} {v}" for k, v in errs.items())
        name = sc if sc != last_sc else "〃"
        last_sc = sc
        print(f"| {name} | {socks if name != '〃' else '〃'} | {ops_desc(r0['ops'])} | {','.join(r0['expected_chain'])} "
              f"| {dump_s} | {'yes' if ok else 'NO'} ×{len(rs)} | {'; '.join(cells)} | {model} |")


if __name__ == "__main__":
    main()
