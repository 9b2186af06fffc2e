#!/usr/bin/env bash
# Regenerates the README's images from the real binary: the demo's two network namespaces,
# bsdemo-web and bsdemo-db, with known sockets (scripts/demo up: screenshots/demo-spec*.json,
# made by tests/helpers/sockmaker.py), bindscope run on them inside tmux, the screen captured
# and rendered to PNG. A demo that was up already is used and left up; one made here is
# removed at the end.
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
demo_made=
cleanup() {
    tmux kill-session -t "$SESSION" 2>/dev/null || true
    # The recording's trickle.py runs in the web namespace: `demo down` ends it with the rest.
    if [ -n "$demo_made" ]; then scripts/demo down >/dev/null; fi
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

# The demo namespaces (one definition: scripts/demo).
if ! scripts/demo status >/dev/null; then
    demo_made=1
    scripts/demo up >/dev/null
fi
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
    # A stream: record -o - piped into open -, as over ssh; captured while it follows.
    tmux new-session -d -s "$SESSION" -x 160 -y 44 \
        "$BIN record -o - --netns $NS,$NS2 --interval 1s | $BIN open -"
    sleep 5
    dash open-stream 2
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
