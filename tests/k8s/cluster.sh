#!/usr/bin/env bash
# A real, local, one-node Kubernetes 1.20 cluster for labsh's tests and for trying labsh by
# hand, built from Debian's packages and source (tests/k8s/build.sh):
#
#   tests/k8s/cluster.sh up DIR [--owner PID]   # start it; DIR/kubeconfig is the admin's
#   tests/k8s/cluster.sh down DIR               # stop it and remove everything it made
#   KUBECONFIG=DIR/kubeconfig labsh             # a REPL on the real cluster
#
# What runs (each process logs to DIR/logs/NAME.log, its pid in DIR/pids/NAME.pid):
# - on the host, on loopback and the node link's host address: etcd 3.4 (Debian's), and
#   kube-apiserver, kube-controller-manager, kube-scheduler 1.20.2 (token auth, RBAC);
# - in the node's own network namespace `labsh-k8s-TAG` (reached through the veth pair
#   `lk8sTAG` <-> eth0, node address 10.250.N.2): a private containerd (Debian's, own socket,
#   root and state under DIR, CRI with restrict_oom_score_adj = true because this kind of
#   machine denies negative oom_score_adj even to root; snapshotter native), the kubelet, and
#   kube-proxy in iptables mode; pods get 10.85.0.0/24 from CNI bridge + host-local + portmap.
#   Putting the node in a namespace keeps the CNI bridge, kube-proxy's and CNI's iptables
#   rules off the host: deleting the namespace removes them all.
#
# Tokens (DIR/tokens.csv): `admin` (system:masters, in DIR/kubeconfig) and `nobody` (no
# rights, in DIR/kubeconfig-nobody) for RBAC tests.
#
# With --owner PID, a watcher runs `down DIR` as soon as PID exits: a test process that dies
# (panic, SIGKILL) still leaves nothing behind.
#
# `down` removes: every process above (and containerd's shims and the containers they run),
# every mount under DIR (kubelet's tmpfs volumes, pod network namespaces), the node namespace
# with its links and rules, the pod log folders kubelet wrote under /var/log/pods and their
# /var/log/containers links, and DIR itself.
set -eEuo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
log() { echo "k8s cluster: $*" >&2; }
die() {
    log "$*"
    exit 1
}

usage() {
    echo "usage: $0 up DIR [--owner PID] | down DIR" >&2
    exit 2
}

[ $# -ge 2 ] || usage
cmd="$1"
mkdir -p "$2"
dir="$(cd "$2" && pwd)"
shift 2
owner=""
while [ $# -gt 0 ]; do
    case "$1" in
        --owner) owner="${2:?--owner needs a pid}"; shift 2 ;;
        *) usage ;;
    esac
done

# Names and addresses derived from DIR, so two clusters in two folders do not collide.
hash="$(echo -n "$dir" | sha256sum)"
tag="${hash:0:6}"
n=$(( 0x${hash:6:4} % 250 + 1 ))
port_base=$(( 20000 + (0x${hash:10:4} % 400) * 10 ))
netns="labsh-k8s-$tag"
hostlink="lk8s$tag"
host_ip="10.250.$n.1"
node_ip="10.250.$n.2"
etcd_port=$((port_base + 1))
etcd_peer_port=$((port_base + 2))
api_port=$((port_base + 3))
cm_port=$((port_base + 4))
sched_port=$((port_base + 5))
node_name="labsh-node"
pod_cidr="10.85.0.0/24"
service_cidr="10.97.0.0/16"
service_ip="10.97.0.1"

pidfile() { echo "$dir/pids/$1.pid"; }

# start NAME [--in-node] ARGV...: runs ARGV in its own session, logging to DIR/logs/NAME.log.
start() {
    local name="$1"
    shift
    local prefix=()
    if [ "$1" = "--in-node" ]; then
        prefix=(nsenter "--net=/run/netns/$netns")
        shift
    fi
    setsid "${prefix[@]}" "$@" >"$dir/logs/$name.log" 2>&1 </dev/null &
    echo $! >"$(pidfile "$name")"
}

alive() {
    local f
    f="$(pidfile "$1")"
    [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}

# wait_for WHAT SECONDS COMMAND...: retries COMMAND every 0.2 s.
wait_for() {
    local what="$1" secs="$2"
    shift 2
    local tries=$((secs * 5))
    while ! "$@" >/dev/null 2>&1; do
        tries=$((tries - 1))
        if [ "$tries" -le 0 ]; then
            log "timed out after ${secs}s waiting for $what; last lines of the logs:"
            for f in "$dir"/logs/*.log; do
                echo "--- $f" >&2
                tail -n 15 "$f" >&2 || true
            done
            return 1
        fi
        sleep 0.2
    done
}

kubectl_() { "$bin/kubectl" --kubeconfig "$dir/kubeconfig" "$@"; }

# stop NAME: TERM, then KILL after 10 s.
stop() {
    local f pid
    f="$(pidfile "$1")"
    [ -f "$f" ] || return 0
    pid="$(cat "$f")"
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
}

# Every pid whose command line mentions DIR (shims, containers started from DIR's rootfs…).
pids_of_dir() {
    local p
    for p in /proc/[0-9]*; do
        [ "${p#/proc/}" = "$$" ] && continue
        if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "$dir/"; then
            echo "${p#/proc/}"
        fi
    done
}

down() {
    [ -d "$dir/pids" ] || [ -e "/run/netns/$netns" ] || { rm -rf "$dir"; return 0; }
    log "down $dir"
    trap - ERR
    # The watcher must not run down a second time while this one works (unless this is it).
    if [ "$(cat "$(pidfile watcher)" 2>/dev/null)" != "$$" ]; then
        stop watcher
    fi
    bin="$(cat "$dir/bin-dir" 2>/dev/null || true)"
    stop kube-proxy
    stop kubelet
    # Kill every container task through our containerd, so runc removes their cgroups.
    if alive containerd; then
        local ctr=(ctr --address "$dir/containerd/containerd.sock" --namespace k8s.io)
        local t
        for t in $("${ctr[@]}" tasks ls -q 2>/dev/null); do
            "${ctr[@]}" tasks kill --signal SIGKILL "$t" >/dev/null 2>&1 || true
        done
        for t in $("${ctr[@]}" tasks ls -q 2>/dev/null); do
            for _ in $(seq 25); do
                "${ctr[@]}" tasks delete "$t" >/dev/null 2>&1 && break
                sleep 0.2
            done
        done
        for t in $("${ctr[@]}" containers ls -q 2>/dev/null); do
            "${ctr[@]}" containers delete "$t" >/dev/null 2>&1 || true
        done
    fi
    stop containerd
    stop kube-scheduler
    stop kube-controller-manager
    stop kube-apiserver
    stop etcd
    # Shims and anything else still running from DIR.
    local p
    for p in $(pids_of_dir); do
        kill -KILL "$p" 2>/dev/null || true
    done
    # Mounts under DIR (kubelet's volumes, pod netns, containers' rootfs), deepest first.
    local m
    for _ in 1 2 3; do
        for m in $(awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
            umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
        done
    done
    if [ -e "/run/netns/$netns" ]; then
        ip netns delete "$netns" || true
    fi
    ip link delete "$hostlink" 2>/dev/null || true
    # kubelet 1.20 writes container logs to the fixed /var/log/pods and links them from
    # /var/log/containers: remove the folders of our pods (their uids are DIR's pod folders).
    local uid l
    if [ -d "$dir/kubelet/pods" ]; then
        for uid in $(ls "$dir/kubelet/pods"); do
            rm -rf /var/log/pods/*_"$uid"
        done
    fi
    for l in /var/log/containers/*.log; do
        [ -L "$l" ] && [ ! -e "$l" ] && rm -f "$l"
    done
    rm -rf "$dir"
    log "down: done"
}

certs() {
    local pki="$dir/pki"
    mkdir -p "$pki"
    (
        cd "$pki"
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=labsh-test-ca" \
            -keyout ca.key -out ca.crt 2>/dev/null
        cat >apiserver.ext <<EOF
subjectAltName = DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local, DNS:localhost, IP:127.0.0.1, IP:$host_ip, IP:$service_ip
extendedKeyUsage = serverAuth
EOF
        openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
            -keyout apiserver.key -out apiserver.csr 2>/dev/null
        openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
            -extfile apiserver.ext -out apiserver.crt 2>/dev/null
        # The API server's client certificate towards kubelets (logs, exec).
        printf 'extendedKeyUsage = clientAuth\n' >client.ext
        openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver-kubelet-client/O=system:masters" \
            -keyout kubelet-client.key -out kubelet-client.csr 2>/dev/null
        openssl x509 -req -in kubelet-client.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
            -days 30 -extfile client.ext -out kubelet-client.crt 2>/dev/null
        openssl genrsa -out sa.key 2048 2>/dev/null
        openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    )
}

kubeconfig() {
    local file="$1" user="$2" token="$3"
    cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: labsh-test
  cluster:
    server: https://$host_ip:$api_port
    certificate-authority: $dir/pki/ca.crt
users:
- name: $user
  user:
    token: $token
contexts:
- name: labsh-test
  context:
    cluster: labsh-test
    user: $user
    namespace: default
current-context: labsh-test
EOF
}

node_configs() {
    mkdir -p "$dir/containerd" "$dir/cni/net.d" "$dir/kubelet"
    cat >"$dir/containerd/config.toml" <<EOF
version = 2
root = "$dir/containerd/root"
state = "$dir/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.overlayfs", "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$dir/containerd/containerd.sock"
[ttrpc]
  address = "$dir/containerd/containerd-ttrpc.sock"
[debug]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "k8s.gcr.io/pause:3.2"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$dir/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${LABSH_CNI_BIN:-/usr/lib/cni}"
    conf_dir = "$dir/cni/net.d"
EOF
    cat >"$dir/cni/net.d/10-labsh.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "labsh",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$dir/cni/ipam",
        "ranges": [[{"subnet": "$pod_cidr"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
    cat >"$dir/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $node_ip
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: false
  x509:
    clientCAFile: $dir/pki/ca.crt
authorization:
  mode: AlwaysAllow
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
clusterDomain: cluster.local
resolvConf: ""
healthzBindAddress: 127.0.0.1
healthzPort: 10248
evictionHard:
  memory.available: "1Mi"
  nodefs.available: "1%"
  imagefs.available: "1%"
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
EOF
}

up() {
    if alive kube-apiserver; then
        log "already up in $dir"
        echo "$dir/kubeconfig"
        return 0
    fi
    [ "$(id -u)" -eq 0 ] || die "needs root (network namespace, containerd, kubelet)"
    command -v etcd >/dev/null || die "missing etcd (apt-get install etcd-server)"
    command -v containerd >/dev/null || die "missing containerd (apt-get install containerd)"
    command -v openssl >/dev/null || die "missing openssl (apt-get install openssl)"
    command -v iptables >/dev/null || die "missing iptables (apt-get install iptables)"
    [ -x "${LABSH_CNI_BIN:-/usr/lib/cni}/bridge" ] \
        || die "missing CNI plugins in ${LABSH_CNI_BIN:-/usr/lib/cni} (apt-get install containernetworking-plugins)"
    local cache
    cache="$("$here/build.sh")"
    bin="$cache/bin"
    local images
    images="$("$here/images.sh" "$bin")"

    rm -rf "$dir"
    mkdir -p "$dir/logs" "$dir/pids"
    echo "$bin" >"$dir/bin-dir"
    if [ -n "$owner" ]; then
        # Started first, so that a failure below is cleaned up as well once the owner exits.
        setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; exec "$2" down "$3"' \
            watcher "$owner" "$here/cluster.sh" "$dir" >"$dir/logs/watcher.log" 2>&1 </dev/null &
        echo $! >"$(pidfile watcher)"
    fi
    trap 'log "up failed; cleaning up"; down' ERR

    log "node network: namespace $netns, $host_ip (host) <-> $node_ip (node)"
    ip netns add "$netns"
    ip link add "$hostlink" type veth peer name eth0 netns "$netns"
    ip addr add "$host_ip/30" dev "$hostlink"
    ip link set "$hostlink" up
    ip netns exec "$netns" ip addr add "$node_ip/30" dev eth0
    ip netns exec "$netns" ip link set eth0 up
    ip netns exec "$netns" ip link set lo up
    ip netns exec "$netns" ip route add default via "$host_ip"
    ip netns exec "$netns" sysctl -qw net.ipv4.ip_forward=1
    ip netns exec "$netns" sysctl -qw net.ipv4.conf.all.route_localnet=1

    certs
    local admin_token nobody_token
    admin_token="$(openssl rand -hex 16)"
    nobody_token="$(openssl rand -hex 16)"
    cat >"$dir/tokens.csv" <<EOF
$admin_token,admin,admin,"system:masters"
$nobody_token,nobody,nobody
EOF
    kubeconfig "$dir/kubeconfig" admin "$admin_token"
    kubeconfig "$dir/kubeconfig-nobody" nobody "$nobody_token"
    node_configs

    log "etcd on 127.0.0.1:$etcd_port"
    start etcd etcd --name labsh --data-dir "$dir/etcd" \
        --listen-client-urls "http://127.0.0.1:$etcd_port" \
        --advertise-client-urls "http://127.0.0.1:$etcd_port" \
        --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" \
        --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
        --initial-cluster "labsh=http://127.0.0.1:$etcd_peer_port"
    wait_for etcd 30 bash -c "exec 3<>/dev/tcp/127.0.0.1/$etcd_port"

    log "kube-apiserver on https://$host_ip:$api_port"
    start kube-apiserver "$bin/kube-apiserver" \
        --etcd-servers "http://127.0.0.1:$etcd_port" \
        --bind-address 0.0.0.0 --advertise-address "$host_ip" --secure-port "$api_port" \
        --insecure-port 0 \
        --tls-cert-file "$dir/pki/apiserver.crt" --tls-private-key-file "$dir/pki/apiserver.key" \
        --client-ca-file "$dir/pki/ca.crt" \
        --token-auth-file "$dir/tokens.csv" \
        --authorization-mode RBAC \
        --service-account-key-file "$dir/pki/sa.pub" \
        --service-account-signing-key-file "$dir/pki/sa.key" \
        --service-account-issuer https://kubernetes.default.svc.cluster.local \
        --service-cluster-ip-range "$service_cidr" \
        --service-node-port-range 30000-32767 \
        --kubelet-client-certificate "$dir/pki/kubelet-client.crt" \
        --kubelet-client-key "$dir/pki/kubelet-client.key" \
        --kubelet-preferred-address-types InternalIP \
        --allow-privileged=true \
        --cert-dir "$dir/pki/apiserver-generated"
    wait_for "the API server" 90 kubectl_ get --raw /readyz

    log "kube-controller-manager, kube-scheduler"
    start kube-controller-manager "$bin/kube-controller-manager" \
        --kubeconfig "$dir/kubeconfig" --authentication-kubeconfig "$dir/kubeconfig" \
        --authorization-kubeconfig "$dir/kubeconfig" \
        --service-account-private-key-file "$dir/pki/sa.key" --root-ca-file "$dir/pki/ca.crt" \
        --controllers '*,-nodeipam' --leader-elect=false \
        --port 0 --secure-port "$cm_port" --bind-address 127.0.0.1 \
        --cert-dir "$dir/pki/cm-generated"
    start kube-scheduler "$bin/kube-scheduler" \
        --kubeconfig "$dir/kubeconfig" --authentication-kubeconfig "$dir/kubeconfig" \
        --authorization-kubeconfig "$dir/kubeconfig" --leader-elect=false \
        --port 0 --secure-port "$sched_port" --bind-address 127.0.0.1 \
        --cert-dir "$dir/pki/sched-generated"

    log "node: containerd, images, kubelet, kube-proxy"
    start containerd --in-node containerd --config "$dir/containerd/config.toml"
    local ctr=(ctr --address "$dir/containerd/containerd.sock" --namespace k8s.io)
    wait_for containerd 30 "${ctr[@]}" version
    local image
    for image in "$images"/*.tar; do
        "${ctr[@]}" images import --snapshotter native "$image" >/dev/null
    done
    start kubelet --in-node "$bin/kubelet" \
        --config "$dir/kubelet/config.yaml" \
        --kubeconfig "$dir/kubeconfig" \
        --container-runtime remote \
        --container-runtime-endpoint "unix://$dir/containerd/containerd.sock" \
        --root-dir "$dir/kubelet" --cert-dir "$dir/kubelet/pki" \
        --node-ip "$node_ip" --hostname-override "$node_name" \
        --pod-infra-container-image k8s.gcr.io/pause:3.2 \
        --oom-score-adj 0 \
        --v 1
    start kube-proxy --in-node "$bin/kube-proxy" \
        --kubeconfig "$dir/kubeconfig" --hostname-override "$node_name" \
        --proxy-mode iptables --cluster-cidr "$pod_cidr" \
        --oom-score-adj 0 --conntrack-max-per-core 0 \
        --conntrack-tcp-timeout-established 0 --conntrack-tcp-timeout-close-wait 0 \
        --metrics-bind-address 127.0.0.1:10249 --healthz-bind-address 127.0.0.1:10256
    wait_for "node $node_name to be Ready" 120 \
        bash -c "'$bin/kubectl' --kubeconfig '$dir/kubeconfig' get node $node_name -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
    wait_for "the default service account" 60 kubectl_ get serviceaccount default
    trap - ERR
    cat >"$dir/env" <<EOF
LABSH_K8S_NODE_IP=$node_ip
LABSH_K8S_HOST_IP=$host_ip
LABSH_K8S_NODE=$node_name
LABSH_K8S_NETNS=$netns
LABSH_K8S_KUBECTL=$bin/kubectl
EOF
    log "up: $("$bin/kubectl" --kubeconfig "$dir/kubeconfig" version --short 2>/dev/null | tail -1)"
    echo "$dir/kubeconfig"
}

case "$cmd" in
    up) up ;;
    down) down ;;
    *) usage ;;
esac
