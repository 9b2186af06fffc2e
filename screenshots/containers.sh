#!/usr/bin/env bash
# The README's picture of a container host: starts the container set of tests/containers.rs
# (a private dockerd with web, nonet, side joined to web, hostc on the host network; rootful
# Podman with pnone and the pod p1 of p1web and p1side), runs the dashboard in tmux, and
# captures the Sockets view (screenshots/containers.png) and the Host view's Containers
# grouping (screenshots/containers-host.png). Everything it starts is removed on exit.
# Run as root from the repository. Needs: docker.io, podman, runc, catatonit,
# busybox-static, tmux, python3 with Pillow, fonts-dejavu-core.
# BIN=path/to/bindscope skips the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${BIN:-}" ]; then
    cargo build --release --quiet
    BIN=$PWD/target/release/bindscope
fi
python3 -c "import PIL" 2>/dev/null || { echo "Pillow is missing (pip install pillow)" >&2; exit 1; }

D=/tmp/bsshot-$$             # short: dockerd's socket path must fit in 108 bytes
SESSION=bsshot-$$
DOCKER="/usr/bin/docker -H unix://$D/docker.sock"
[ -x /usr/bin/docker ] || DOCKER="docker -H unix://$D/docker.sock"
export CONTAINERS_CONF=$D/containers.conf
PODMAN="podman --root $D/proot --runroot $D/prun --tmpdir $D/ptmp --runtime runc \
  --cgroup-manager cgroupfs --events-backend file --storage-driver vfs"
# Paths the runtimes make outside $D (docs/container-runtimes.md §11): removed at the end
# only if this script made them, and only when empty.
made=()
for p in /run/runc /run/containerd/s /run/containerd /run/containers/networks /run/containers \
         /run/docker/plugins /run/docker \
         /sys/fs/cgroup/*/docker /sys/fs/cgroup/*/libpod_parent /sys/fs/cgroup/docker \
         /sys/fs/cgroup/libpod_parent; do
    [ -e "$p" ] || made+=("$p")
done

cleanup() {
    set +e
    tmux kill-session -t "$SESSION" 2>/dev/null
    $PODMAN pod rm -f -t 0 --all >/dev/null 2>&1
    $PODMAN rm -f -t 0 --all >/dev/null 2>&1
    ids=$($DOCKER ps -aq --no-trunc 2>/dev/null)
    [ -n "$ids" ] && $DOCKER rm -f $ids >/dev/null 2>&1
    if [ -s "$D/docker.pid" ]; then
        pid=$(cat "$D/docker.pid")
        kill "$pid" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    # Shims, conmons and containerd name paths under $D/ in their arguments: any left is this
    # script's.
    for pid in $(grep -lsF "$D/" /proc/[0-9]*/cmdline | cut -d/ -f3); do
        [ "$pid" != $$ ] && kill -9 "$pid" 2>/dev/null
    done
    for id in $(cat "$D/ids" 2>/dev/null); do
        [ -d "/run/runc/$id" ] && runc --root /run/runc delete --force "$id" 2>/dev/null
        rm -f "$(sed 's|^unix://||' "$D/dx/containerd/daemon/io.containerd.runtime.v2.task/moby/$id/address" 2>/dev/null)" 2>/dev/null
        for cg in /sys/fs/cgroup/*/docker/"$id" /sys/fs/cgroup/docker/"$id" \
                  /sys/fs/cgroup/*/libpod_parent/libpod-"$id" /sys/fs/cgroup/*/libpod_parent/*/libpod-"$id" \
                  /sys/fs/cgroup/libpod_parent/libpod-"$id" /sys/fs/cgroup/libpod_parent/*/libpod-"$id"; do
            [ -d "$cg" ] && rmdir "$cg" 2>/dev/null
        done
    done
    for pod in $(cat "$D/pods" 2>/dev/null); do
        for cg in /sys/fs/cgroup/*/libpod_parent/"$pod" /sys/fs/cgroup/libpod_parent/"$pod"; do
            [ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
        done
    done
    # Mounts under $D (docker's netns files, podman's shm), deepest first.
    awk -v d="$D/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
    done
    rm -rf "$D"
    for p in "${made[@]}"; do
        if [ -d "$p" ]; then rmdir "$p/conmon" 2>/dev/null; rmdir "$p" 2>/dev/null; fi
    done
}
trap cleanup EXIT INT TERM

mkdir -p "$D/rootfs/bin" "$D/rootfs/www" "$D/rootfs/etc" "$D/rootfs/tmp"
cp /bin/busybox "$D/rootfs/bin/"
for a in sh nc httpd sleep cat; do ln -s busybox "$D/rootfs/bin/$a"; done
tar -C "$D/rootfs" -cf "$D/rootfs.tar" .
printf '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n' >"$CONTAINERS_CONF"

dockerd --bridge=none --iptables=false --ip6tables=false --exec-opt native.cgroupdriver=cgroupfs \
    --data-root "$D/docker" --exec-root "$D/dx" -H "unix://$D/docker.sock" \
    --pidfile "$D/docker.pid" >"$D/dockerd.log" 2>&1 &
disown
for _ in $(seq 300); do $DOCKER version >/dev/null 2>&1 && break; sleep 0.1; done
$DOCKER version >/dev/null || { tail "$D/dockerd.log"; echo "dockerd did not start" >&2; exit 1; }
$DOCKER import "$D/rootfs.tar" bs:1 >/dev/null

hostport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("0.0.0.0", 0)); print(s.getsockname()[1])')
drun() { $DOCKER run -d --name "$1" "${@:2}" | tee -a "$D/ids" >/dev/null; }
drun web bs:1 /bin/httpd -f -p 8080 -h /www
drun nonet --network none bs:1 /bin/nc -l -p 8081 -e /bin/cat
drun side --network container:web bs:1 /bin/httpd -f -p 9090 -h /www
drun hostc --network host bs:1 /bin/httpd -f -p "$hostport" -h /www

$PODMAN import -q "$D/rootfs.tar" localhost/bs:1 >/dev/null
$PODMAN pod create --name p1 --network none | tee -a "$D/pods" >/dev/null
$PODMAN pod inspect p1 --format '{{.InfraContainerID}}' >>"$D/ids"
prun() { $PODMAN run -d --name "$1" "${@:2}" | tee -a "$D/ids" >/dev/null; }
prun pnone --network none localhost/bs:1 /bin/httpd -f -p 8091 -h /www
prun p1web --pod p1 localhost/bs:1 /bin/httpd -f -p 8092 -h /www
prun p1side --pod p1 localhost/bs:1 /bin/httpd -f -p 8093 -h /www
sleep 1

CAPTURE_DIR=$D
# shellcheck source=screenshots/dash.sh
source screenshots/dash.sh
tmux new-session -d -s "$SESSION" -x 160 -y 36 "$BIN --interval 1s"
sleep 3
# The row below the first (the host's own listener, first by address): web's socket, whose
# detail names its container and image.
dash containers j
# The Host view (6), the host's detail (enter), scrolled to its end (G): the Containers
# grouping, every container with its namespace, whether it owns it, and what it listens on.
dash containers-host 6 Enter G
tmux kill-session -t "$SESSION"
