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
