#!/usr/bin/env bash
# Benchmark of the live dashboard (product.md, "Performance"): at 10,000 sockets and a 1 s
# refresh it must use under 5% of one core on average; a key press must redraw within 50 ms
# at 50,000 sockets.
#
# Usage (as root):   bench/dashboard_bench.sh
# Environment:       SOCKETS (10000), PROCS (100), SECONDS_CPU (30), KEY_SOCKETS (50000),
#                    KEY_PROCS (300), PRESSES (20), PART (1, 2 or both), NO_BUILD=1 to skip
#                    the release build, BINDSCOPE=path to use another binary.
#
# Part 1 makes a namespace with SOCKETS sockets (bench/mksockets.py), runs `bindscope
# --interval 1s --netns current` in a tmux pane inside it, waits for the first snapshot, then
# reads the process's CPU time (utime+stime in /proc/PID/stat) over SECONDS_CPU seconds and
# prints the average share of one core. Part 2 does the same at KEY_SOCKETS sockets, then
# presses `j` PRESSES times and measures how long each takes to change the screen (polling
# tmux capture-pane: an upper bound that includes tmux's own delay). The same loop against a
# pane running `cat`, which echoes a key at once, measures that delay, and the difference is
# bindscope's share. Everything is removed on exit, failure or Ctrl-C.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
SOCKETS=${SOCKETS:-10000}
PROCS=${PROCS:-100}
SECONDS_CPU=${SECONDS_CPU:-30}
KEY_SOCKETS=${KEY_SOCKETS:-50000}
KEY_PROCS=${KEY_PROCS:-300}
PRESSES=${PRESSES:-20}
NS=bsdash-$$
SESSION=bsdash-$$
WORK=$(mktemp -d)

cleanup() {
    tmux kill-session -t "$SESSION" 2>/dev/null || true
    exec 3>&- || true
    for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"
private_binary "$ROOT" "$WORK" >/dev/null || exit 1
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# setup N_SOCKETS N_PROCS: a fresh namespace with that many sockets (no dashboard left).
setup() {
    tmux kill-session -t "$SESSION" 2>/dev/null || true
    socket_namespace "$NS" "$WORK" "$1" "$2"
}

# start: the dashboard in a 200x50 tmux pane inside the namespace; sets PID.
start() {
    tmux new-session -d -s "$SESSION" -x 200 -y 50 \
        "ip netns exec $NS $WORK/bindscope --interval 1s --netns current"
    PID=
    for _ in $(seq 100); do
        PID=$(pgrep -f "^$WORK/bindscope --interval" | head -1 || true)
        [ -n "$PID" ] && break
        sleep 0.1
    done
    [ -n "$PID" ] || { echo "the dashboard did not start" >&2; exit 1; }
    # Wait for the first snapshot on screen: the header shows the socket count.
    for _ in $(seq 300); do
        tmux capture-pane -p -t "$SESSION" | grep -q "sockets" && break
        sleep 0.1
    done
}


# presses KEY FILE: PRESSES presses of KEY, each timed until the screen changes.
presses() {
    : >"$2"
    for _ in $(seq "$PRESSES"); do
        before=$(tmux capture-pane -p -t "$SESSION" | md5sum)
        s=$(date +%s%N)
        tmux send-keys -t "$SESSION" "$1"
        for _ in $(seq 2000); do
            now=$(tmux capture-pane -p -t "$SESSION" | md5sum)
            [ "$now" != "$before" ] && break
            sleep 0.002
        done
        e=$(date +%s%N)
        echo $(( (e - s) / 1000000 )) >>"$2"
        sleep 0.05
    done
}
median() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
PART=${PART:-both}

if [ "$PART" != 2 ]; then
echo "part 1: $SOCKETS sockets in $PROCS processes, 1 s refresh, ${SECONDS_CPU}s of CPU time"
setup "$SOCKETS" "$PROCS"
start
sleep 3   # past the first, cold collection
t0=$(cpu_ticks "$PID"); w0=$(date +%s.%N)
sleep "$SECONDS_CPU"
t1=$(cpu_ticks "$PID"); w1=$(date +%s.%N)
hz=$(getconf CLK_TCK)
cpu=$(awk -v t0="$t0" -v t1="$t1" -v w0="$w0" -v w1="$w1" -v hz="$hz" \
    'BEGIN { printf "%.2f", 100 * (t1 - t0) / hz / (w1 - w0) }')
echo "dashboard CPU at $SOCKETS sockets, 1 s refresh: ${cpu}% of one core (target < 5%)"
fi
[ "$PART" = 1 ] && exit 0

echo "part 2: $KEY_SOCKETS sockets in $KEY_PROCS processes, $PRESSES key presses"
setup "$KEY_SOCKETS" "$KEY_PROCS"
start
sleep 3
tmux send-keys -t "$SESSION" space   # pause: no refresh may change the screen meanwhile
sleep 1.5
: >"$WORK/lat"
presses j "$WORK/lat"
tmux kill-session -t "$SESSION"
# tmux's own delay: the same loop against `cat`, which echoes each key at once.
tmux new-session -d -s "$SESSION" -x 200 -y 50 "cat"
sleep 0.5
presses x "$WORK/cal"
b=$(median "$WORK/lat"); c=$(median "$WORK/cal")
echo "key press to redrawn screen at $KEY_SOCKETS sockets: median $b ms, max $(sort -n "$WORK/lat" | tail -1) ms, as measured through tmux"
echo "tmux's own delay (same loop against cat): median $c ms"
echo "bindscope's share: about $(( b - c )) ms (target < 50 ms)"
