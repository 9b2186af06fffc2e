#!/usr/bin/env bash
# Benchmark: one `bindscope snapshot --format json --all` covering every network namespace
# against `ss -tuanpe` run in each namespace in turn, with 50 namespaces of 200 sockets each
# (TCP listeners and unconnected UDP sockets on loopback, one holding process per namespace).
#
# Usage (as root):   bench/netns_bench.sh [RUNS]
# Environment:       RUNS (default 7), NAMESPACES (50), SOCKETS (200 per namespace, half
#                    listeners, half UDP), NO_BUILD=1 to skip `cargo build --release`,
#                    BINDSCOPE=path to use another binary.
#
# It builds the release binary, creates namespaces bsnsb-PID-1..N, starts one holder process
# in each, then runs RUNS rounds (after one warm-up round), each of, in rotating order:
#   bindscope   bindscope snapshot --format json --all, from the script's namespace (it
#               enters every namespace itself; its output also holds the script's namespace
#               and any other namespace on the host; it is written to a file on tmpfs and
#               counted afterwards, so runs that covered more than the setup are flagged);
#   ip-exec     `ip netns exec NS ss -tuanpe` for each namespace, sequentially (what a
#               person does);
#   nsenter     `nsenter --net=/run/netns/NS ss -tuanpe` for each, sequentially (no mount
#               namespace or /sys remount per call, as ip netns exec does);
#   ss-only     the ss runs alone: one timing process enters each namespace with setns(2)
#               and runs `ss -tuanpe` there (the sum of ss's own work plus fork/exec).
# It prints the medians, the ratios bindscope/each and bindscope's peak RSS. The namespaces
# and every process in them are removed on exit, on failure and on Ctrl-C.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"

RUNS="${1:-${RUNS:-7}}"
NAMESPACES="${NAMESPACES:-50}"
SOCKETS="${SOCKETS:-200}"
PY="${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}"

if [[ "$(id -u)" != 0 ]]; then
    echo "netns_bench: needs root (network namespaces)" >&2
    exit 2
fi
for tool in ip ss; do
    command -v "$tool" >/dev/null || { echo "netns_bench: '$tool' is not on PATH" >&2; exit 2; }
done

PREFIX="bsnsb-$$"
WORK="$(mktemp -d /tmp/bsnsb.XXXXXX)"
NS_MADE=()
HOLDERS=()
SNAP_TMP=""

cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    exec 3>&- || true                        # the holders exit when their stdin closes
    for pid in "${HOLDERS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${HOLDERS[@]}"; do
        for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    for ns in "${NS_MADE[@]}"; do
        for _ in $(seq 20); do
            pids="$(ip netns pids "$ns" 2>/dev/null || true)"
            [[ -z "$pids" ]] && break
            for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
            sleep 0.1
        done
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -rf "$WORK"
    if [[ -n "$SNAP_TMP" ]]; then rm -rf "$SNAP_TMP"; fi
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

# ---- the holder: run inside a namespace, holds N/2 listeners and N/2 UDP sockets -----------
cat >"$WORK/hold.py" <<'EOF'
import ctypes, os, signal, socket, sys
n = int(sys.argv[1])
ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: die with the script
held = []
for i in range(n):
    if i % 2 == 0:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        s.listen(128)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
    held.append(s)
print("READY %d" % len(held), flush=True)
sys.stdin.read()
EOF

# ---- namespaces and sockets -----------------------------------------------------------------
mkfifo "$WORK/stdin"
exec 3<>"$WORK/stdin"     # read-write: never blocks; the holders run until it is closed
echo "creating $NAMESPACES namespaces with $SOCKETS sockets each ..." >&2
for i in $(seq "$NAMESPACES"); do
    ns="$PREFIX-$i"
    ip netns add "$ns"
    NS_MADE+=("$ns")
    ip -n "$ns" link set lo up
    ip netns exec "$ns" "$PY" "$WORK/hold.py" "$SOCKETS" <"$WORK/stdin" \
        >"$WORK/ready.$i" 2>"$WORK/hold.$i.err" &
    HOLDERS+=($!)
done
for i in $(seq "$NAMESPACES"); do
    for _ in $(seq 300); do
        grep -q '^READY' "$WORK/ready.$i" 2>/dev/null && break
        kill -0 "${HOLDERS[$((i - 1))]}" 2>/dev/null || break
        sleep 0.1
    done
    if ! grep -q '^READY' "$WORK/ready.$i"; then
        echo "the holder in $PREFIX-$i did not get ready:" >&2
        cat "$WORK/ready.$i" "$WORK/hold.$i.err" >&2
        exit 1
    fi
done
made=$(cat "$WORK"/ready.* | awk '{s += $2} END {print s}')
printf '%s\n' "${NS_MADE[@]}" >"$WORK/names"

# What each side sees: bindscope's sockets in our namespaces, ss's lines in them.
seen_bs="$("$BINDSCOPE" snapshot --format json --all 2>/dev/null | "$PY" -c '
import json, os, sys
names = open(sys.argv[1]).read().split()
ids = {os.stat("/run/netns/" + n).st_ino for n in names}
d = json.load(sys.stdin)
ours = [s for s in d["sockets"] if s["netns"] in ids]
print(len(ours), len({s["netns"] for s in ours}), len(d["sockets"]), len(d["netns"]))
' "$WORK/names")"
seen_ss=0
for ns in "${NS_MADE[@]}"; do
    seen_ss=$((seen_ss + $(ip netns exec "$ns" ss -H -tuan 2>/dev/null | wc -l)))
done

# ---- measure ------------------------------------------------------------------------------
echo "measuring: $RUNS rounds, rotating order, after one warm-up ..." >&2
SNAP_DIR="$WORK"
if [[ -d /dev/shm && -w /dev/shm ]]; then
    SNAP_DIR="$(mktemp -d /dev/shm/bsnsb.XXXXXX)"
    SNAP_TMP="$SNAP_DIR"
fi
"$PY" - "$BINDSCOPE" "$RUNS" "$WORK/names" "$WORK/times" "$SNAP_DIR/snap.json" \
    2>"$WORK/times.stderr" <<'EOF'
import ctypes, os, resource, shutil, subprocess, sys, time
bindscope, runs, names_file, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
snap_file = sys.argv[5]
names = open(names_file).read().split()
CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)
devnull = os.open(os.devnull, os.O_WRONLY)

def spawn(argv, out=devnull):
    """fork/exec argv with stdout to `out` (/dev/null); return its rusage."""
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(out, 1)
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    _, status, ru = os.wait4(pid, 0)
    if status != 0:
        sys.exit("%s exited with status %#x" % (" ".join(argv), status))
    return ru

# Peak RSS: ru_maxrss of a child counts the memory of the process it was forked from (until
# exec), so this timer's own ~13 MB would be a floor. GNU time forks bindscope from its own
# small image and reports the child's alone.
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
rss_file = snap_file + ".rss"

def bs():
    # Into a file (tmpfs when there is one), to see afterwards what this run covered: other
    # namespaces appearing meanwhile (another benchmark) would be measured too.
    argv = [bindscope, "snapshot", "--format", "json", "--all"]
    if GNU_TIME:
        argv = [GNU_TIME, "-f", "%M", "-o", rss_file] + argv
    fd = os.open(snap_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    t0 = time.monotonic()
    ru = spawn(argv, fd)
    secs = time.monotonic() - t0
    os.close(fd)
    rss = int(open(rss_file).read().split()[-1]) if GNU_TIME else ru.ru_maxrss
    # Count in another process: this one stays small (see above).
    counts = subprocess.run(
        [sys.executable, "-c", "import json,sys; d=json.load(open(sys.argv[1])); "
         "print(len(d['netns']), len(d['sockets']))", snap_file],
        check=True, capture_output=True, text=True).stdout.split()
    return secs, "%d %s %s" % (rss, counts[0], counts[1])

def loop(prefix):
    t0 = time.monotonic()
    for n in names:
        spawn(prefix(n) + ["ss", "-tuanpe"])
    return time.monotonic() - t0, "0 0 0"

def ss_only():
    # A child enters each namespace in turn and runs ss there; only ss is timed.
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            total = 0.0
            for n in names:
                fd = os.open("/run/netns/" + n, os.O_RDONLY)
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns " + n)
                os.close(fd)
                t0 = time.monotonic()
                spawn(["ss", "-tuanpe"])
                total += time.monotonic() - t0
            os.write(w, repr(total).encode())
            os._exit(0)
        except BaseException as e:  # never unwind into the parent's code in this fork
            os.write(2, ("ss-only loop: %s\n" % e).encode())
            os._exit(1)
    os.close(w)
    data = os.read(r, 64)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        sys.exit("the ss-only loop failed")
    return float(data), "0 0 0"

tools = [("bindscope", bs), ("ip-exec", lambda: loop(lambda n: ["ip", "netns", "exec", n]))]
if shutil.which("nsenter"):
    tools.append(("nsenter", lambda: loop(lambda n: ["nsenter", "--net=/run/netns/" + n])))
tools.append(("ss-only", ss_only))

for _, f in tools:  # warm-up: page cache, dentries
    f()
if not GNU_TIME:
    os.write(2, b"no GNU time: bindscope's peak RSS is at least this timer's own, %d KiB\n"
             % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
with open(out, "w") as o:
    for i in range(runs):
        for k in range(len(tools)):
            name, f = tools[(i + k) % len(tools)]
            secs, rss = f()
            o.write("%s %.3f %s\n" % (name, secs * 1000, rss))
EOF

"$PY" - "$WORK/times" "$made" "$NAMESPACES" "$SOCKETS" "$seen_bs" "$seen_ss" "$RUNS" <<'EOF'
import statistics, sys
path, made, nns, per, seen_bs, seen_ss, runs = sys.argv[1:]
ours, ns_with, total, listed = seen_bs.split()
t, rss, cover = {}, [], []
for line in open(path):
    tool, ms, kib, n_ns, n_socks = line.split()
    t.setdefault(tool, []).append(float(ms))
    if tool == "bindscope":
        rss.append(int(kib))
        cover.append((int(n_ns), int(n_socks)))
print("made:       %s namespaces x %s sockets = %s sockets (half listeners, half UDP)" % (nns, per, made))
print("seen:       bindscope %s sockets in %s of them (%s in all, %s namespaces listed); "
      "ss -tuan %s lines in them" % (ours, ns_with, total, listed, seen_ss))
print("runs:       %s rounds, rotating order, after one warm-up round" % runs)
odd = [i for i, c in enumerate(cover) if c[0] != int(listed) or abs(c[1] - int(total)) > 100]
if odd:
    print("NOTE:       %d bindscope run(s) covered other namespaces or sockets than at setup "
          "(another benchmark or test running?): %s"
          % (len(odd), ", ".join("%d ns/%d sockets %.0f ms" % (cover[i] + (t["bindscope"][i],))
                                 for i in odd)))
med = {k: statistics.median(v) for k, v in t.items()}
labels = {
    "bindscope": "bindscope snapshot --format json --all (one run)",
    "ip-exec": "ip netns exec NS ss -tuanpe, x%s" % nns,
    "nsenter": "nsenter --net=/run/netns/NS ss -tuanpe, x%s" % nns,
    "ss-only": "ss -tuanpe alone (setns by the timer), x%s" % nns,
}
for k in ["bindscope", "ip-exec", "nsenter", "ss-only"]:
    if k in t:
        print("%-52s median %8.1f ms  (min %.1f, max %.1f)" % (labels[k], med[k], min(t[k]), max(t[k])))
for k in ["ip-exec", "nsenter", "ss-only"]:
    if k in med and med[k]:
        print("ratio bindscope / %-33s %.2f" % (k + " (medians)", med["bindscope"] / med[k]))
print("bindscope peak RSS:  max %.1f MB, median %.1f MB"
      % (max(rss) / 1024, statistics.median(rss) / 1024))
if odd:
    clean = [i for i in range(len(cover)) if i not in odd]
    if clean:
        print("without those runs:  bindscope median %.1f ms, peak RSS max %.1f MB"
              % (statistics.median(t["bindscope"][i] for i in clean),
                 max(rss[i] for i in clean) / 1024))
EOF
if [[ -s "$WORK/times.stderr" ]]; then
    echo "(stderr of the timed runs, first lines:)" >&2
    grep -v 'Failed to find cgroup2 mount' "$WORK/times.stderr" | sort | uniq -c | head -5 >&2 || true
fi
