# Shared by the bench scripts (sourced, not run).

# private_binary ROOT DIR: builds the release binary unless NO_BUILD is set or BINDSCOPE names
# another one, copies it into DIR and prints the copy's path. A private copy, so that a
# concurrent `cargo build` cannot swap the binary in the middle of a measurement.
private_binary() {
    local root=$1 dir=$2 bin=${BINDSCOPE:-}
    if [[ -z "$bin" ]]; then
        if [[ -z "${NO_BUILD:-}" ]]; then
            echo "building: cargo build --release" >&2
            (cd "$root" && cargo build --release --quiet) >&2
        fi
        bin="$root/target/release/bindscope"
    fi
    [[ -x "$bin" ]] || { echo "no binary at $bin" >&2; return 1; }
    cp "$bin" "$dir/bindscope"
    echo "$dir/bindscope"
}

# socket_namespace NS WORK N_SOCKETS N_PROCS: a fresh namespace NS (any earlier one of that
# name and its processes removed first) with N_SOCKETS sockets held by N_PROCS processes
# (bench/mksockets.py; one of them holds a fifth). mksockets lives while fd 3 is open: the
# caller's cleanup closes it (`exec 3>&-`) and removes the namespace. Exits on failure.
socket_namespace() {
    local ns=$1 work=$2 sockets=$3 procs=$4 here
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    exec 3>&- || true
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    rm -f "$work/stdin" "$work/ready"
    mkfifo "$work/stdin"
    ip netns exec "$ns" "$(command -v python3)" "$here/mksockets.py" --procs "$procs" \
        --sockets "$sockets" --big $((sockets / 5)) \
        <"$work/stdin" >"$work/ready" 2>"$work/mksockets.err" &
    # Out of the job table: the cleanup's kill -9 is expected, not news for the output.
    disown $!
    exec 3>"$work/stdin"
    for _ in $(seq 600); do grep -q READY "$work/ready" 2>/dev/null && break; sleep 0.2; done
    grep -q READY "$work/ready" || { cat "$work/mksockets.err" >&2; echo "mksockets failed" >&2; exit 1; }
}

# cpu_ticks PID: the process's CPU time so far (utime + stime, in clock ticks).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
