#!/usr/bin/env bash
# Benchmark of the exporter (issue 16/17): `bindscope serve --interval 15s` at 10,000 sockets
# held by 100 processes, scraped every 15 s as Prometheus would, must use under 0.5% of one
# core on average. Prints the share of a core over the window, the CPU of one collection
# and one scrape, and the peak RSS.
#
# Usage (as root):   bench/serve_bench.sh
# Environment:       SOCKETS (10000), PROCS (100), INTERVAL (15), WINDOW (120 seconds of
#                    measurement), NO_BUILD=1 to skip the release build, BINDSCOPE=path.
#
# A namespace bsserve-PID with SOCKETS sockets (bench/mksockets.py), the exporter inside it on
# its loopback, a scraper (python, in the namespace) asking for /metrics every INTERVAL
# seconds with Prometheus's Accept header. CPU time is utime+stime of /proc/PID/stat read
# before and after WINDOW seconds, after the first collection and first scrape. Everything is
# removed on exit, failure or Ctrl-C.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
SOCKETS=${SOCKETS:-10000}
PROCS=${PROCS:-100}
INTERVAL=${INTERVAL:-15}
WINDOW=${WINDOW:-120}
NS=bsserve-$$
WORK=$(mktemp -d)
PY=$(command -v python3)

cleanup() {
    exec 3>&- || true
    for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"
BIN=$(private_binary "$ROOT" "$WORK") || exit 1
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

socket_namespace "$NS" "$WORK" "$SOCKETS" "$PROCS"

ip netns exec "$NS" "$BIN" serve -q --listen 127.0.0.1:9874 --interval "${INTERVAL}s" \
    -n current 2>"$WORK/serve.err" &
PID=$!
# The scraper: Prometheus's Accept header, one scrape per interval; prints each scrape's ms.
ip netns exec "$NS" "$PY" - "$INTERVAL" >"$WORK/scrapes" 2>&1 <<'PYEOF' &
import sys, time, urllib.request
interval = float(sys.argv[1])
accept = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
          "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
while True:
    t0 = time.monotonic()
    try:
        req = urllib.request.Request("http://127.0.0.1:9874/metrics", headers={"Accept": accept})
        with urllib.request.urlopen(req, timeout=30) as r:
            n = len(r.read())
        print("%.1f %d" % ((time.monotonic() - t0) * 1000, n), flush=True)
    except OSError as e:
        print("error %s" % e, flush=True)
    time.sleep(max(0.0, interval - (time.monotonic() - t0)))
PYEOF
SCRAPER=$!
# Past the first (cold) collection and the first scrape.
for _ in $(seq 300); do grep -qv error "$WORK/scrapes" 2>/dev/null && break; sleep 0.2; done
grep -qv error "$WORK/scrapes" || { cat "$WORK/serve.err" "$WORK/scrapes" >&2; echo "no scrape" >&2; exit 1; }
hz=$(getconf CLK_TCK)
t0=$(cpu_ticks "$PID"); w0=$(date +%s.%N)
sleep "$WINDOW"
t1=$(cpu_ticks "$PID"); w1=$(date +%s.%N)
rss=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status")
kill "$SCRAPER" 2>/dev/null || true
kill -TERM "$PID"
wait "$PID" || true
share=$(awk -v t0="$t0" -v t1="$t1" -v w0="$w0" -v w1="$w1" -v hz="$hz" \
    'BEGIN { printf "%.3f", 100 * (t1 - t0) / hz / (w1 - w0) }')
per=$(awk -v t0="$t0" -v t1="$t1" -v hz="$hz" -v w="$WINDOW" -v i="$INTERVAL" \
    'BEGIN { printf "%.0f", 1000 * (t1 - t0) / hz / (w / i) }')
scrape=$(grep -v error "$WORK/scrapes" | awk '{print $1}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
bytes=$(grep -v error "$WORK/scrapes" | tail -1 | awk '{print $2}')
echo "exporter at $SOCKETS sockets / $PROCS processes, ${INTERVAL}s interval, ${WINDOW}s window:"
echo "  CPU: ${share}% of one core (target < 0.5%); about ${per} ms of CPU per interval (a collection and a scrape)"
echo "  scrape: median ${scrape} ms wall, ${bytes} bytes; peak RSS $((rss / 1024)) MB"
