#!/usr/bin/env bash
# Builds a real Kubernetes 1.20 from Debian's source package, once, and caches it.
#
#   tests/k8s/build.sh            # prints the cache folder holding bin/ (builds it if missing)
#   tests/k8s/build.sh --cached   # prints it if it is built; exits 3 (and builds nothing) if not
#
# What it makes, in $LABSH_K8S_CACHE (default /var/tmp/labsh-k8s)/<key>/:
#   bin/kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy
#   bin/pause     the pause container's binary, from the source's build/pause/linux/pause.c
#   bin/kubectl   Debian's kubernetes-client 1.20 (unpacked with dpkg -x, never installed):
#                 the oracle for labsh's tables
# The key is the source version and RECIPE: bump RECIPE when what is built changes.
#
# Needs (`.ci/run` installs them): a deb-src entry for Debian's mirror, dpkg-dev, golang-go,
# rsync, gcc, golang-github-modern-go-reflect2-dev. Cold: about 15-20 minutes on 2 cores.
#
# Why the reflect2 swap: Kubernetes 1.20 vendors github.com/modern-go/reflect2 v1.0.1,
# which breaks under Go >= 1.18 (the API server dies with "fatal error: fault" in
# mapiterinit as soon as CRDs are applied). Debian's 1.0.2 fixes it; every binary gets it.
set -euo pipefail

VERSION="1.20.5+really1.20.2-1.1+deb12u1"
RECIPE="r1"
cache_root="${LABSH_K8S_CACHE:-/var/tmp/labsh-k8s}"
key="kubernetes-${VERSION//[^A-Za-z0-9.-]/_}-$RECIPE"
out="$cache_root/$key"

if [ -x "$out/bin/kube-apiserver" ] && [ -f "$out/complete" ]; then
    echo "$out"
    exit 0
fi
if [ "${1:-}" = "--cached" ]; then
    echo "k8s build: not built yet ($out): run tests/k8s/build.sh (15-20 minutes cold)" >&2
    exit 3
fi

log() { echo "k8s build: $*" >&2; }
need() {
    command -v "$1" >/dev/null || { log "missing $1 ($2)"; exit 1; }
}
need dpkg-source "apt-get install dpkg-dev"
need go "apt-get install golang-go"
need rsync "apt-get install rsync"
need gcc "apt-get install gcc"
reflect2=/usr/share/gocode/src/github.com/modern-go/reflect2
[ -d "$reflect2" ] || { log "missing $reflect2 (apt-get install golang-github-modern-go-reflect2-dev)"; exit 1; }

mkdir -p "$cache_root"
work="$(mktemp -d "$cache_root/.build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"

log "fetching Debian's kubernetes source $VERSION"
apt-get source --download-only "kubernetes=$VERSION" >&2 \
    || { log "apt-get source failed: add a deb-src entry for Debian's mirror (see .ci/run)"; exit 1; }
dpkg-source -x --no-check ./*.dsc src >&2
cd src

log "replacing vendored reflect2 v1.0.1 with Debian's $(basename "$(readlink -f "$reflect2")")"
rm -rf vendor/github.com/modern-go/reflect2
mkdir -p vendor/github.com/modern-go/reflect2
cp -r "$reflect2"/. vendor/github.com/modern-go/reflect2/
rm -f vendor/github.com/modern-go/reflect2/go.mod

# As debian/rules builds it: a GOPATH with k8s.io/kubernetes pointing at the tree.
export GOPATH="$PWD/.go" CGO_ENABLED=0 HOME="$work/home"
export GOCACHE="${LABSH_K8S_GOCACHE:-$cache_root/go-cache}" GOFLAGS=-mod=vendor
mkdir -p .go/src/k8s.io "$HOME"
ln -s ../../.. .go/src/k8s.io/kubernetes
log "make (kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)"
make WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler cmd/kubelet cmd/kube-proxy" >&2

stage="$work/out"
mkdir -p "$stage/bin"
for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy; do
    cp "_output/bin/$b" "$stage/bin/"
done
log "pause (gcc -static build/pause/linux/pause.c)"
gcc -Os -static -o "$stage/bin/pause" build/pause/linux/pause.c -DVERSION=v3.4.1-labsh

log "kubectl from Debian's kubernetes-client (dpkg -x, not installed)"
(cd "$work" && apt-get download "kubernetes-client=$VERSION" >&2)
dpkg -x "$work"/kubernetes-client_*.deb "$work/client"
cp "$work/client/usr/bin/kubectl" "$stage/bin/kubectl"

"$stage/bin/kube-apiserver" --version >&2
echo "$VERSION" > "$stage/complete"
rm -rf "$out"
mv "$stage" "$out"
echo "$out"
