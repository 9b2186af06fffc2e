#!/usr/bin/env bash
# Benchmark: `bindscope snapshot --format json --all` against `ss -tuanpe` on the same
# sockets, in a throwaway network namespace (issue 17: at most 0.25x ss's wall time, peak
# memory under 80 MB, at 50,000 sockets held by 300 processes; product.md's floor was 1x
# and 100 MB). bindscope reads every namespace: run it with no other large namespace on the
# host, or the ratio counts their sockets too.
#
# Usage (as root):   bench/snapshot_bench.sh [RUNS]
# Environment:       RUNS (default 7), PROCS (300), SOCKETS (50000), BIG (10000: sockets of
#                    the one big process), NO_BUILD=1 to skip `cargo build --release`,
#                    BINDSCOPE=path to use another binary.
#
# It builds the release binary, creates namespace bsbench-PID, starts bench/mksockets.py in
# it, then runs bindscope and ss alternately RUNS times each (after one warm-up run of each)
# and prints the medians, the ratio bindscope/ss and bindscope's peak RSS. The namespace and
# every process in it are removed on exit, on failure and on Ctrl-C.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"

# ---- inner part: runs inside the namespace (ip netns exec NS this-script --measure ...) --
if [[ "${1:-}" == "--measure" ]]; then
    bin="$2" runs="$3" out="$4"
    # One timed run: wall ms and peak RSS KiB of argv, output to /dev/null.
    if [[ -x /usr/bin/time ]]; then
        timed() {
            local t0 t1 tf
            tf="$(mktemp)"
            t0=$(date +%s%N)
            if ! /usr/bin/time -f %M -o "$tf" "$@" >/dev/null 2>>"$out.stderr"; then
                echo "failed: $* (see below)" >&2
                tail -n 5 "$out.stderr" >&2
                rm -f "$tf"
                return 1
            fi
            t1=$(date +%s%N)
            echo "$(( (t1 - t0) / 1000000 )) $(tail -n1 "$tf")"
            rm -f "$tf"
        }
    else
        # No GNU time: wait4() gives the child's peak RSS (ru_maxrss, KiB), which is what
        # VmHWM says just before exit, without polling /proc.
        timed() {
            python3 - "$@" 2>>"$out.stderr" <<'EOF'
import os, sys, time
t0 = time.monotonic()
pid = os.fork()
if pid == 0:
    fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 1)
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, ru = os.wait4(pid, 0)
if status != 0:
    sys.exit("%s exited with status %d" % (sys.argv[1], status))
print(int((time.monotonic() - t0) * 1000), ru.ru_maxrss)
EOF
        }
    fi
    : >"$out"
    # Warm-up (page cache, dentries), not counted.
    timed "$bin" snapshot --format json --all >/dev/null
    timed ss -tuanpe >/dev/null
    for ((i = 1; i <= runs; i++)); do
        r="$(timed "$bin" snapshot --format json --all)"
        echo "bindscope $r" >>"$out"
        r="$(timed ss -tuanpe)"
        echo "ss $r" >>"$out"
    done
    exit 0
fi

# ---- outer part ----------------------------------------------------------------------------
RUNS="${1:-${RUNS:-7}}"
PROCS="${PROCS:-300}"
SOCKETS="${SOCKETS:-50000}"
BIG="${BIG:-10000}"
PY="${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}"

if [[ "$(id -u)" != 0 ]]; then
    echo "snapshot_bench: needs root (network namespaces, processes of several uids)" >&2
    exit 2
fi

NS="bsbench-$$"
WORK="$(mktemp -d /tmp/bsbench.XXXXXX)"
MK_PID=""
NS_MADE=""

cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    exec 3>&- 2>/dev/null || true           # closing mksockets' stdin makes it exit
    if [[ -n "$MK_PID" ]]; then
        kill -TERM "$MK_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$MK_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$MK_PID" 2>/dev/null || true
        wait "$MK_PID" 2>/dev/null || true
    fi
    if [[ -n "$NS_MADE" ]]; then
        for _ in $(seq 20); do
            pids="$(ip netns pids "$NS" 2>/dev/null || true)"
            [[ -z "$pids" ]] && break
            for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
            sleep 0.1
        done
        ip netns del "$NS" 2>/dev/null || true
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ---- build -----------------------------------------------------------------------------------
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"
BINDSCOPE=$(private_binary "$ROOT" "$WORK") || exit 1

# ---- limits ----------------------------------------------------------------------------------
# Raise the fd limit as far as allowed; the big process needs more than 1024.
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (( $(ulimit -n) < BIG + 100 )); then
    echo "ulimit -n is $(ulimit -n), the big process needs $((BIG + 100)): lower BIG" >&2
    exit 1
fi

# ---- namespace and sockets --------------------------------------------------------------------
ip netns add "$NS"
NS_MADE=1
ip -n "$NS" link set lo up
ip netns exec "$NS" sysctl -qw net.ipv4.ip_local_port_range="32768 60999"

mkfifo "$WORK/stdin"
ip netns exec "$NS" "$PY" "$HERE/mksockets.py" --procs "$PROCS" --sockets "$SOCKETS" \
    --big "$BIG" <"$WORK/stdin" >"$WORK/ready" 2>"$WORK/mksockets.err" &
MK_PID=$!
exec 3>"$WORK/stdin"    # hold the write end: mksockets runs until it is closed

echo "creating $SOCKETS sockets in $PROCS processes in namespace $NS ..." >&2
for _ in $(seq 1200); do
    grep -q -e '^READY' -e '^FAILED' "$WORK/ready" 2>/dev/null && break
    kill -0 "$MK_PID" 2>/dev/null || break
    sleep 0.1
done
if ! grep -q '^READY' "$WORK/ready"; then
    echo "mksockets did not get ready:" >&2
    cat "$WORK/ready" "$WORK/mksockets.err" >&2
    exit 1
fi
made="$(sed -n 's/^READY //p' "$WORK/ready")"

# What each tool sees (ss 6.1 does not list bound-only TCP sockets).
seen_bs="$(ip netns exec "$NS" "$BINDSCOPE" snapshot --format json --all 2>/dev/null |
    "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(len(d["sockets"]), len({h["pid"] for s in d["sockets"] for h in s["holders"]}))')"
seen_ss="$(ip netns exec "$NS" ss -H -tuan | wc -l)"
procs_ns="$(ip netns pids "$NS" | wc -l)"

# ---- measure -----------------------------------------------------------------------------------
echo "measuring: $RUNS runs each, alternating ..." >&2
ip netns exec "$NS" "$HERE/$(basename "${BASH_SOURCE[0]}")" --measure "$BINDSCOPE" "$RUNS" "$WORK/times"

"$PY" - "$WORK/times" "$made" "$seen_bs" "$seen_ss" "$procs_ns" "$RUNS" <<'EOF'
import json, statistics, sys
path, made, seen_bs, seen_ss, procs_ns, runs = sys.argv[1:]
made = json.loads(made)
t = {"bindscope": [], "ss": []}
rss = {"bindscope": [], "ss": []}
for line in open(path):
    tool, ms, kib = line.split()
    t[tool].append(int(ms))
    rss[tool].append(int(kib))
bs, ss = statistics.median(t["bindscope"]), statistics.median(t["ss"])
n_bs, holders = seen_bs.split()
print("sockets made:           %d in %d processes (one holds %d); %s processes in the namespace"
      % (made["sockets"], made["processes"], made["big"], procs_ns))
print("sockets seen:           bindscope --all %s (held by %s processes), ss -tuan %s (no bound-only TCP)"
      % (n_bs, holders, seen_ss))
print("runs:                   %s each, alternating, after one warm-up" % runs)
print("bindscope snapshot --format json --all:  median %7.1f ms   (min %d, max %d)"
      % (bs, min(t["bindscope"]), max(t["bindscope"])))
print("ss -tuanpe:                              median %7.1f ms   (min %d, max %d)"
      % (ss, min(t["ss"]), max(t["ss"])))
print("ratio bindscope/ss (medians):            %.2f  (target <= 0.25)" % (bs / ss if ss else float("inf")))
print("bindscope peak RSS:                      max %.1f MB, median %.1f MB  (target < 80 MB)"
      % (max(rss["bindscope"]) / 1024, statistics.median(rss["bindscope"]) / 1024))
print("ss peak RSS:                             max %.1f MB" % (max(rss["ss"]) / 1024))
EOF
if [[ -s "$WORK/times.stderr" ]]; then
    echo "(stderr of the timed runs, first lines:)" >&2
    grep -v 'Failed to find cgroup2 mount' "$WORK/times.stderr" | sort | uniq -c | head -5 >&2 || true
fi
