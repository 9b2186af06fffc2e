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

# Who receives what on two ports of the web namespace, for the README's `ports` example.
"$BIN" ports --netns "$NS" 'port:8080,8125' 2>/dev/null >screenshots/ports.txt
echo "wrote screenshots/ports.txt"

CAPTURE_DIR=$TMP
# shellcheck source=screenshots/dash.sh
source screenshots/dash.sh
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
