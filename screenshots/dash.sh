# Sourced by make.sh and containers.sh: the dashboard captured in colour. tmux keeps the
# escape sequences (capture-pane -e) and ansi2png.py draws them cell by cell (needs Pillow).
# Uses $SESSION (the tmux session running the dashboard) and $CAPTURE_DIR (scratch files).

# dash NAME KEYS...: send the keys (text:ABC types ABC), then capture the screen as
# screenshots/NAME.png.
dash() {
    local name=$1; shift
    for k in "$@"; do
        case "$k" in
            text:*) tmux send-keys -t "$SESSION" -l "${k#text:}" ;;
            *) tmux send-keys -t "$SESSION" "$k" ;;
        esac
        sleep 0.4
    done
    sleep 1
    tmux capture-pane -e -p -t "$SESSION" >"$CAPTURE_DIR/$name.ansi"
    python3 screenshots/ansi2png.py "$CAPTURE_DIR/$name.ansi" "screenshots/$name.png"
    echo "wrote screenshots/$name.png"
}
