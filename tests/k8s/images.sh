#!/usr/bin/env bash
# Builds the local test cluster's container images without a registry, once, and caches them
# as `docker save` archives that `ctr images import` loads into the node's containerd.
#
#   tests/k8s/images.sh BIN_DIR     # prints the folder holding the *.tar archives
#
# - k8s.gcr.io/pause:3.2 (the pause image kubelet 1.20 expects): BIN_DIR/pause, built by
#   build.sh from the Kubernetes source's build/pause/linux/pause.c.
# - gcr.io/google-samples/gb-frontend:v4, the name the lab's manifests use: a stand-in for the
#   Guestbook frontend (tests/k8s/frontend/main.go, a Go web server writing Apache *combined*
#   access lines to stdout) plus Debian's static busybox for `sh`, `cat`, `sleep`… in execs.
# - docker.io/nicolaka/netshoot:v0.13, the default image of labsh's node debug pods: a
#   STAND-IN, not netshoot. Debian's static busybox (`sh`, `kill`, `sleep`, `cat`) plus this
#   host's tcpdump, iproute2 (`ip`, `ss`), procps (`ps`) and nsenter, copied with the shared
#   libraries `ldd` lists. Enough for what labsh runs in a debug pod; it carries netshoot's
#   name so that the pod spec labsh writes by default finds it in the node's containerd
#   (imagePullPolicy IfNotPresent) without a registry.
#
# Each image is a root filesystem turned into an image by `docker import` (no registry, no
# Dockerfile), then `docker save`d. Cached in $LABSH_K8S_CACHE/images-<hash of the inputs>.
set -euo pipefail

bin="${1:?usage: images.sh BIN_DIR}"
here="$(cd "$(dirname "$0")" && pwd)"
cache_root="${LABSH_K8S_CACHE:-/var/tmp/labsh-k8s}"
busybox="${LABSH_BUSYBOX:-/bin/busybox}"
log() { echo "k8s images: $*" >&2; }

[ -x "$busybox" ] && "$busybox" --list >/dev/null 2>&1 \
    || { log "missing a static busybox at $busybox (apt-get install busybox-static)"; exit 1; }
command -v docker >/dev/null || { log "missing docker (the images are made with docker import)"; exit 1; }

# The host programs the debug image stand-in copies (tcpdump, iproute2, procps, nsenter).
debug_tools=()
for tool in tcpdump ip ss ps nsenter; do
    path="$(command -v "$tool")" || { log "missing $tool on PATH (apt-get install tcpdump iproute2 procps util-linux)"; exit 1; }
    debug_tools+=("$(readlink -f "$path")")
done

key="$(cat "$0" "$here/frontend/main.go" "$here/frontend/go.mod" "$bin/pause" "$busybox" "${debug_tools[@]}" | sha256sum | cut -c1-12)"
out="$cache_root/images-$key"
if [ -f "$out/complete" ]; then
    echo "$out"
    exit 0
fi
# Clusters brought up at once (the tests' throwaway clusters) build the images once: the
# others wait here. Two builds at once would `docker rmi` each other's images between
# `docker import` and `docker save`.
mkdir -p "$cache_root"
exec 9>"$cache_root/.images.lock"
flock 9
if [ -f "$out/complete" ]; then
    echo "$out"
    exit 0
fi

work="$(mktemp -d "$cache_root/.images.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# import ROOTFS NAME ENTRYPOINT_JSON: docker import, then docker save into $work/NAME.tar.
import() {
    local root="$1" name="$2" entrypoint="$3" file
    file="$work/$(echo "$name" | tr '/:' '__').tar"
    tar -C "$root" -c . | docker import --change "ENTRYPOINT $entrypoint" - "$name" >/dev/null
    docker save "$name" -o "$file"
    docker rmi "$name" >/dev/null
}

log "pause image"
mkdir -p "$work/pause"
cp "$bin/pause" "$work/pause/pause"
import "$work/pause" k8s.gcr.io/pause:3.2 '["/pause"]'

log "frontend image (go build tests/k8s/frontend)"
root="$work/frontend"
mkdir -p "$root/bin" "$root/etc" "$root/tmp"
(cd "$here/frontend" && CGO_ENABLED=0 GOFLAGS=-mod=mod GOCACHE="$cache_root/go-cache" \
    HOME="$work" go build -o "$root/frontend" .)
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\nwww-data:x:33:\n' > "$root/etc/group"
import "$root" gcr.io/google-samples/gb-frontend:v4 '["/frontend"]'

log "node debug image (stand-in for docker.io/nicolaka/netshoot:v0.13)"
root="$work/debug"
mkdir -p "$root/bin" "$root/usr/bin" "$root/etc" "$root/tmp" "$root/proc" "$root/sys" "$root/dev"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
for tool in "${debug_tools[@]}"; do
    cp "$tool" "$root/usr/bin/$(basename "$tool")"
    # Each shared library (and the loader) at the path the binary asks for.
    for lib in $(ldd "$tool" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
    done
done
# Debian's tcpdump drops its privileges to the user `tcpdump` once the capture is open.
printf 'root:x:0:0:root:/root:/bin/sh\ntcpdump:x:104:104::/nonexistent:/bin/false\n' > "$root/etc/passwd"
printf 'root:x:0:\ntcpdump:x:104:\n' > "$root/etc/group"
# /usr/bin first: the real tcpdump, ip and ps rather than busybox's applets of those names.
import "$root" docker.io/nicolaka/netshoot:v0.13 '["/bin/sh"]'

rm -rf "$work/pause" "$work/frontend" "$work/debug"
touch "$work/complete"
rm -rf "$out"
mv "$work" "$out"
trap - EXIT
echo "$out"
