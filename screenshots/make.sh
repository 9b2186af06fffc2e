#!/usr/bin/env bash
# Regenerates the README's images from the real binary: builds two demo network namespaces,
# bsdemo-web and bsdemo-db, with known sockets (screenshots/demo-spec*.json, made by
# tests/helpers/sockmaker.py), runs bindscope on them inside tmux, captures the screen and
# renders it to PNG with ImageMagick.
# Also prints the text, for the README's examples. Run as root from the repository.
# Needs: tmux, imagemagick, fonts-dejavu-core, iproute2, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN=$PWD/target/release/bindscope
NS=bsdemo-web
NS2=bsdemo-db
SESSION=bsdemo-$$
TMP=$(mktemp -d)
cleanup() {
    tmux kill-session -t "$SESSION" 2>/dev/null || true
    for ns in "$NS" "$NS2"; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
for ns in "$NS" "$NS2"; do
    if ip netns list | grep -qw "$ns"; then echo "namespace $ns exists already" >&2; exit 1; fi
done
trap cleanup EXIT INT TERM

# start NS SPEC: a namespace whose sockets sockmaker makes and holds until this script ends.
start() {
    local ns=$1 spec=$2
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    mkfifo "$TMP/$ns.in"
    ip netns exec "$ns" python3 tests/helpers/sockmaker.py "$spec" <"$TMP/$ns.in" >"$TMP/$ns.out" &
    disown   # cleanup kills it: no job notice
    exec {fd}>"$TMP/$ns.in"   # keeps sockmaker alive until this script ends
    for _ in $(seq 100); do [ -s "$TMP/$ns.out" ] && break; sleep 0.1; done
    grep -q '"sockets"' "$TMP/$ns.out" || { cat "$TMP/$ns.out"; echo "sockmaker failed" >&2; exit 1; }
}
start "$NS" screenshots/demo-spec.json
start "$NS2" screenshots/demo-spec-db.json
sleep 0.5

# shot NAME COLS ROWS COMMAND: run COMMAND in a tmux pane of that size, save its screen.
shot() {
    local name=$1 cols=$2 rows=$3; shift 3
    tmux new-session -d -s "$SESSION" -x "$cols" -y "$rows" "$* ; sleep 30"
    sleep 1.5
    tmux capture-pane -p -t "$SESSION" >"$TMP/$name.txt"
    tmux kill-session -t "$SESSION"
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
shot snapshot-table 240 26 "$BIN" snapshot --format table --netns "$NS,$NS2"
"$BIN" findings --netns "$NS,$NS2" --samples 3 --interval 500ms 2>/dev/null >screenshots/findings.txt || true
echo "wrote screenshots/findings.txt"
"$BIN" snapshot --format json --pretty --netns "$NS" 2>/dev/null >"$TMP/snap.json"
# A fixture for the dashboard's tests, only when asked: it is committed and must stay stable.
if [ -n "${WRITE_FIXTURE:-}" ]; then
    "$BIN" snapshot --format json --pretty --netns "$NS,$NS2" 2>/dev/null >tests/fixtures/demo-snapshot.json
    echo "wrote tests/fixtures/demo-snapshot.json"
fi
python3 - "$TMP/snap.json" >screenshots/snapshot-socket.json <<'PY'
import json, sys
snap = json.load(open(sys.argv[1]))
s = next(s for s in snap["sockets"] if s["local_port"] == 80)
print(json.dumps(s, indent=2))
PY
echo "wrote screenshots/snapshot-socket.json"
# The dashboard, in colour: tmux keeps the escape sequences (capture-pane -e) and
# ansi2png.py draws them cell by cell (needs Pillow).
dash() {   # dash NAME KEYS...: send the keys (text:ABC types ABC), then capture the screen
    local name=$1; shift
    for k in "$@"; do
        case "$k" in
            text:*) tmux send-keys -t "$SESSION" -l "${k#text:}" ;;
            *) tmux send-keys -t "$SESSION" "$k" ;;
        esac
        sleep 0.4
    done
    sleep 1
    tmux capture-pane -e -p -t "$SESSION" >"$TMP/$name.ansi"
    python3 screenshots/ansi2png.py "$TMP/$name.ansi" "screenshots/$name.png"
    echo "wrote screenshots/$name.png"
}
if python3 -c "import PIL" 2>/dev/null; then
    tmux new-session -d -s "$SESSION" -x 160 -y 44 "$BIN --netns $NS,$NS2 --interval 1s"
    sleep 3
    dash dashboard-sockets
    dash dashboard-ports 2
    dash dashboard-processes 3
    dash dashboard-users 4
    dash dashboard-findings 5
    dash dashboard-host 6
    dash dashboard-help 1 '?'
    tmux send-keys -t "$SESSION" Escape
    dash dashboard-filter / 'text:port:8080' Enter
    tmux send-keys -t "$SESSION" Escape
    dash dashboard-whatif w 'text: --reuseport --user 1002' Enter
    tmux kill-session -t "$SESSION"
    # A recording: 12 samples; after the second, a service starts in the web namespace whose
    # listener on 9500 never accepts while clients keep coming (tests/helpers/trickle.py).
    "$BIN" record -o "$TMP/rec.jsonl" --netns "$NS,$NS2" --interval 500ms --samples 12 2>/dev/null &
    rec=$!
    sleep 0.8
    mkfifo "$TMP/trickle.in"
    ip netns exec "$NS" python3 tests/helpers/trickle.py 9500 9501 <"$TMP/trickle.in" >/dev/null &
    disown
    exec {tfd}>"$TMP/trickle.in"
    wait "$rec"
    "$BIN" diff "$TMP/rec.jsonl" >screenshots/diff.txt || true
    echo "wrote screenshots/diff.txt"
    tmux new-session -d -s "$SESSION" -x 160 -y 44 "$BIN open $TMP/rec.jsonl"
    sleep 2
    dash open-recording / 'text:port:9500' Enter
    tmux send-keys -t "$SESSION" Escape
    dash open-changes 7
    tmux kill-session -t "$SESSION"
    # The same at 80x24, the smallest size it is meant for.
    tmux new-session -d -s "$SESSION" -x 80 -y 24 "$BIN --netns $NS,$NS2 --interval 1s"
    sleep 3
    dash dashboard-80x24
    tmux kill-session -t "$SESSION"
else
    echo "Pillow is missing (pip install pillow): dashboard screenshots not taken" >&2
fi
python3 screenshots/sync_readme.py
