#!/usr/bin/env bash
# Regenerates the README's images from the real binary: builds a demo network namespace with
# known sockets (screenshots/demo-spec.json, made by tests/helpers/sockmaker.py), runs
# bindscope in it inside tmux, captures the screen and renders it to PNG with ImageMagick.
# Also prints the text, for the README's examples. Run as root from the repository.
# Needs: tmux, imagemagick, fonts-dejavu-core, iproute2, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN=$PWD/target/release/bindscope
NS=bsdemo-$$
TMP=$(mktemp -d)
cleanup() {
    tmux kill-session -t "$NS" 2>/dev/null || true
    [ -n "${SM_PID:-}" ] && kill "$SM_PID" 2>/dev/null || true
    for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

ip netns add "$NS"
ip -n "$NS" link set lo up
mkfifo "$TMP/in"
ip netns exec "$NS" python3 tests/helpers/sockmaker.py screenshots/demo-spec.json <"$TMP/in" >"$TMP/out" &
SM_PID=$!
exec 3>"$TMP/in"   # keeps sockmaker alive until this script ends
for _ in $(seq 100); do [ -s "$TMP/out" ] && break; sleep 0.1; done
grep -q '"sockets"' "$TMP/out" || { cat "$TMP/out"; echo "sockmaker failed" >&2; exit 1; }
sleep 0.5

# shot NAME COLS ROWS COMMAND: run COMMAND in a tmux pane of that size, save its screen.
shot() {
    local name=$1 cols=$2 rows=$3; shift 3
    tmux new-session -d -s "$NS" -x "$cols" -y "$rows" "ip netns exec $NS $* ; sleep 30"
    sleep 1.5
    tmux capture-pane -p -t "$NS" >"$TMP/$name.txt"
    tmux kill-session -t "$NS"
    sed -e 's/[[:space:]]*$//' "$TMP/$name.txt" | awk 'NF{n=NR} {l[NR]=$0} END{for(i=1;i<=n;i++) print l[i]}' >"screenshots/$name.txt"
    # One label per line, stacked: label: interprets % and \ (escaped here), Debian's policy
    # forbids label:@file, and a many-line label trips its size limit.
    local args=() line
    while IFS= read -r line; do
        line=${line//\\/\\\\}
        line=${line//%/%%}
        if [ -z "$line" ]; then
            args+=(-size 1x17 "xc:#1d1f21" +size)   # an empty label: makes no image
        else
            args+=("label:$line")
        fi
    done <"screenshots/$name.txt"
    convert -background '#1d1f21' -fill '#d8dee9' -font DejaVu-Sans-Mono -pointsize 13 \
        "${args[@]}" -append -bordercolor '#1d1f21' -border 12 "screenshots/$name.png"
    echo "wrote screenshots/$name.png"
}
shot snapshot-table 230 22 "$BIN" snapshot --format table
ip netns exec "$NS" "$BIN" snapshot --format json --pretty 2>/dev/null >"$TMP/snap.json"
python3 - "$TMP/snap.json" >screenshots/snapshot-socket.json <<'PY'
import json, sys
snap = json.load(open(sys.argv[1]))
s = next(s for s in snap["sockets"] if s["local_port"] == 80)
print(json.dumps(s, indent=2))
PY
echo "wrote screenshots/snapshot-socket.json"
