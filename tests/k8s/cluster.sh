#!/usr/bin/env bash
# A real, local Kubernetes 1.20 cluster of one or more nodes for labsh's tests and for trying
# labsh by hand, built from Debian's packages and source (tests/k8s/build.sh):
#
#   tests/k8s/cluster.sh up DIR [--nodes N] [--owner PID] [--cni none] [--no-kube-proxy]
#                                                          # start it; DIR/kubeconfig is the admin's
#   tests/k8s/cluster.sh down DIR                          # stop it and remove everything it made
#   KUBECONFIG=DIR/kubeconfig labsh                        # a REPL on the real cluster
#
# What runs (each process logs to DIR/logs/NAME.log, its pid in DIR/pids/NAME.pid):
# - on the host, on loopback and the host's address on the cluster network: etcd 3.4
#   (Debian's), and kube-apiserver, kube-controller-manager (allocating each node a /24 of
#   the cluster CIDR 10.85.0.0/16), kube-scheduler 1.20.2 (token auth, RBAC);
# - N nodes (default 1), node I named `labsh-node` (I = 1) or `labsh-node-I`, each in its own
#   network namespace (`labsh-k8s-TAG`, then `labsh-k8s-TAG-I`) AND its own mount namespace
#   (DIR/ns/mnt-I, where DIR/nodes/I/log is mounted on /var/log): a private containerd
#   (Debian's, own socket, root and state under DIR/nodes/I, CRI with restrict_oom_score_adj
#   = true because this kind of machine denies negative oom_score_adj even to root;
#   snapshotter native), the kubelet, and kube-proxy in iptables mode. Why a mount namespace:
#   kubelet 1.20 writes container logs to the fixed /var/log/pods, and its garbage collector
#   deletes every folder there whose pod it does not run: two kubelets (two nodes, or two
#   clusters on one machine) sharing /var/log would delete each other's pod logs.
# - The network (the handout's topology: one L2 segment, the host calling any node): a bridge
#   in a "switch" namespace `labsh-k8s-TAG-sw` links the host (veth `lk8sTAG`, address
#   10.250.M.1/24) and every node (eth0, 10.250.M.(I+1)/24). Pods get addresses from their
#   node's podCIDR (containerd writes the CNI config, bridge + host-local + portmap, from its
#   template once the kubelet reports the podCIDR the controller-manager allocated); each node
#   routes the other nodes' podCIDRs via those nodes, and masquerades what its pods send out
#   of the cluster CIDR (to the host, the API server). So a NodePort called on one node
#   reaches a pod on another, SNATed by kube-proxy as in any kube-proxy cluster.
#   Putting the nodes in namespaces keeps CNI bridges, kube-proxy's and CNI's iptables rules
#   and pod routes off the host: deleting the namespaces removes them all. M, TAG and the
#   ports come from DIR (two clusters in two folders do not collide); `up` checks that the
#   subnet and ports are free first and moves on to the next free ones if not.
#
# Tokens (DIR/tokens.csv): `admin` (system:masters, in DIR/kubeconfig) and `nobody` (no
# rights, in DIR/kubeconfig-nobody) for RBAC tests. DIR/env has the addresses and names
# (LABSH_K8S_NODE/_NODE_IP/_NETNS for node 1, LABSH_K8S_NODE_I/_NODE_IP_I/_NETNS_I for I ≥ 2,
# LABSH_K8S_NODES, LABSH_K8S_HOST_IP, LABSH_K8S_KUBECTL).
#
# With --owner PID, a watcher runs `down DIR` as soon as PID exits: a test process that dies
# (panic, SIGKILL) still leaves nothing behind.
#
# For a network plugin of your own (the nodes as a bare cluster, like `kind` with
# `disableDefaultCNI` and `kubeProxyMode: none`):
# - `--cni none`: containerd gets no CNI config template; each node's CNI config folder
#   (DIR/nodes/I/cni/net.d, in DIR/env as LABSH_K8S_CNI_CONF_DIR[_I]) stays empty until a
#   plugin writes its config there, its plugins being looked up in ${LABSH_CNI_BIN:-/usr/lib/cni}.
#   The nodes stay NotReady until then: `up` waits for them to register, not to be Ready.
#   The routes between the nodes' podCIDRs and the masquerade rule are set up as usual.
# - `--no-kube-proxy`: no kube-proxy on the nodes: Services are not programmed until
#   something replaces it.
# DIR/env also names each node's mount namespace (LABSH_K8S_MNTNS[_I], for `nsenter
# --mount`), the API server's URL (LABSH_K8S_API) and the cluster CIDR (LABSH_K8S_CLUSTER_CIDR).
#
# `down` removes: every process above (and containerd's shims and the containers they run),
# every mount under DIR (the nodes' mount namespaces, and with them the kubelets' tmpfs
# volumes and the pods' network namespaces), the node and switch namespaces with their links,
# routes and rules, the host's link, and DIR itself (the pod logs were in it).
set -eEuo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
log() { echo "k8s cluster: $*" >&2; }
die() {
    log "$*"
    exit 1
}

usage() {
    echo "usage: $0 up DIR [--nodes N] [--owner PID] [--cni bridge|none] [--no-kube-proxy] | down DIR" >&2
    exit 2
}

[ $# -ge 2 ] || usage
cmd="$1"
dir_arg="$2"
shift 2
owner=""
nodes=1
cni=bridge
kube_proxy=yes
while [ $# -gt 0 ]; do
    case "$1" in
        --owner) owner="${2:?--owner needs a pid}"; shift 2 ;;
        --nodes) nodes="${2:?--nodes needs a number}"; shift 2 ;;
        --cni) cni="${2:?--cni needs bridge or none}"; shift 2 ;;
        --no-kube-proxy) kube_proxy=no; shift ;;
        *) usage ;;
    esac
done
case "$cni" in
    bridge | none) ;;
    *) echo "--cni: expected bridge (the default) or none, got '$cni'" >&2; exit 2 ;;
esac
case "$nodes" in
    [1-9] | [1-9][0-9]) ;;
    *) echo "--nodes: expected a number of nodes from 1 to 99, got '$nodes'" >&2; exit 2 ;;
esac
mkdir -p "$dir_arg"
dir="$(cd "$dir_arg" && pwd)"

# Names derived from DIR, so two clusters in two folders do not collide. The subnet and the
# ports start from DIR's hash too; `up` moves on to free ones (free_subnet, free_ports).
hash="$(echo -n "$dir" | sha256sum)"
tag="${hash:0:6}"
n=$(( 0x${hash:6:4} % 250 + 1 ))
port_base=$(( 20000 + (0x${hash:10:4} % 400) * 10 ))
switch_ns="labsh-k8s-$tag-sw"
hostlink="lk8s$tag"
cluster_cidr="10.85.0.0/16"
service_cidr="10.97.0.0/16"
service_ip="10.97.0.1"

# Per node I (1-based): namespace, name, address, folder.
node_ns() { if [ "$1" -eq 1 ]; then echo "labsh-k8s-$tag"; else echo "labsh-k8s-$tag-$1"; fi; }
node_name() { if [ "$1" -eq 1 ]; then echo "labsh-node"; else echo "labsh-node-$1"; fi; }
node_ip() { echo "10.250.$n.$(($1 + 1))"; }
node_dir() { echo "$dir/nodes/$1"; }
mnt_ns() { echo "$dir/ns/mnt-$1"; }

# Sets the addresses and ports from the current n and port_base.
addresses() {
    host_ip="10.250.$n.1"
    etcd_port=$((port_base + 1))
    etcd_peer_port=$((port_base + 2))
    api_port=$((port_base + 3))
    cm_port=$((port_base + 4))
    sched_port=$((port_base + 5))
}
addresses

pidfile() { echo "$dir/pids/$1.pid"; }

# start NAME [--in-node I] ARGV...: runs ARGV in its own session (in node I's network and
# mount namespaces), logging to DIR/logs/NAME.log.
start() {
    local name="$1"
    shift
    local prefix=()
    if [ "$1" = "--in-node" ]; then
        prefix=(nsenter "--net=/run/netns/$(node_ns "$2")" "--mount=$(mnt_ns "$2")")
        shift 2
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

# stop_node I: kubelet and kube-proxy, every container task through the node's containerd
# (so runc removes their cgroups), then containerd.
stop_node() {
    local i="$1"
    stop "kube-proxy-$i"
    stop "kubelet-$i"
    if alive "containerd-$i"; then
        local ctr=(ctr --address "$(node_dir "$i")/containerd/containerd.sock" --namespace k8s.io)
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
    stop "containerd-$i"
}

down() {
    local count i
    count="$(cat "$dir/nodes-count" 2>/dev/null || echo 1)"
    [ -d "$dir/pids" ] || [ -e "/run/netns/$(node_ns 1)" ] || [ -e "/run/netns/$switch_ns" ] \
        || { rm -rf "$dir"; return 0; }
    log "down $dir"
    trap - ERR
    # The watcher must not run down a second time while this one works (unless this is it).
    if [ "$(cat "$(pidfile watcher)" 2>/dev/null)" != "$$" ]; then
        stop watcher
    fi
    bin="$(cat "$dir/bin-dir" 2>/dev/null || true)"
    for i in $(seq "$count"); do
        stop_node "$i"
    done
    stop kube-scheduler
    stop kube-controller-manager
    stop kube-apiserver
    stop etcd
    # Shims and anything else still running from DIR.
    local p
    for p in $(pids_of_dir); do
        kill -KILL "$p" 2>/dev/null || true
    done
    # Mounts under DIR, deepest first: the nodes' mount namespaces (their kubelet volumes and
    # pod network namespaces go with them once no process is left in them), DIR/ns itself.
    local m
    for _ in 1 2 3; do
        for m in $(awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
            umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
        done
    done
    for i in $(seq "$count"); do
        if [ -e "/run/netns/$(node_ns "$i")" ]; then
            ip netns delete "$(node_ns "$i")" || true
        fi
    done
    if [ -e "/run/netns/$switch_ns" ]; then
        ip netns delete "$switch_ns" || true
    fi
    ip link delete "$hostlink" 2>/dev/null || true
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

# node_configs I: containerd's config and CNI template, the kubelet's config, for node I.
node_configs() {
    local i="$1" nd ip
    nd="$(node_dir "$i")"
    ip="$(node_ip "$i")"
    mkdir -p "$nd/containerd" "$nd/cni/net.d" "$nd/kubelet" "$nd/log"
    cat >"$nd/containerd/config.toml" <<EOC
version = 2
root = "$nd/containerd/root"
state = "$nd/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.overlayfs", "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$nd/containerd/containerd.sock"
[ttrpc]
  address = "$nd/containerd/containerd-ttrpc.sock"
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
        Root = "$nd/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${LABSH_CNI_BIN:-/usr/lib/cni}"
    conf_dir = "$nd/cni/net.d"
EOC
    # With --cni none, no template: the folder stays empty until a network plugin writes its
    # config there.
    [ "$cni" = none ] || echo "    conf_template = \"$nd/cni/template.conflist\"" >>"$nd/containerd/config.toml"
    # containerd fills {{.PodCIDR}} in once the kubelet passes it the node's podCIDR. No
    # ipMasq: a pod's packets to another node's pods keep their source (the node masquerades
    # only what leaves the cluster CIDR, see network()).
    cat >"$nd/cni/template.conflist" <<EOC
{
  "cniVersion": "0.4.0",
  "name": "labsh",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$nd/cni/ipam",
        "ranges": [[{"subnet": "{{.PodCIDR}}"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOC
    cat >"$nd/kubelet/config.yaml" <<EOC
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $ip
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
EOC
}

# free_subnet: moves n on until no host address or route uses 10.250.n.0/24.
free_subnet() {
    local tries=0 first="$n"
    while ip -o -4 addr show | grep -qF " 10.250.$n." || ip -4 route show | grep -qF "10.250.$n."; do
        tries=$((tries + 1))
        [ "$tries" -lt 250 ] || die "no free subnet 10.250.X.0/24 left on this host"
        n=$((n % 250 + 1))
    done
    [ "$n" = "$first" ] || log "10.250.$first.0/24 is in use on this host: using 10.250.$n.0/24"
}

# free_ports: moves port_base on until none of its five ports is listened on.
free_ports() {
    local listening tries=0 p busy
    listening="$(ss -Hltn | awk '{ print $4 }')"
    while :; do
        busy=""
        for p in $(seq $((port_base + 1)) $((port_base + 5))); do
            if grep -qE "[:.]$p\$" <<<"$listening"; then
                busy="$p"
            fi
        done
        if [ -z "$busy" ]; then
            [ "$tries" -eq 0 ] || log "ports in use on this host: using $((port_base + 1))-$((port_base + 5))"
            return 0
        fi
        tries=$((tries + 1))
        [ "$tries" -lt 400 ] || die "no five free ports left in 20000-23999"
        port_base=$(((port_base - 20000 + 10) % 4000 + 20000))
    done
}

# network: the switch namespace and its bridge, the host's link to it, each node's namespace
# and link, addresses, default routes, forwarding and the nodes' masquerade rule.
network() {
    log "network: switch $switch_ns, host $host_ip ($hostlink), nodes $(node_ip 1)…$(node_ip "$nodes")"
    ip netns add "$switch_ns"
    ip -n "$switch_ns" link set lo up
    ip -n "$switch_ns" link add br0 type bridge
    ip -n "$switch_ns" link set br0 up
    ip link add "$hostlink" type veth peer name host netns "$switch_ns"
    ip -n "$switch_ns" link set host master br0 up
    ip addr add "$host_ip/24" dev "$hostlink"
    ip link set "$hostlink" up
    local i ns
    for i in $(seq "$nodes"); do
        ns="$(node_ns "$i")"
        ip netns add "$ns"
        ip -n "$switch_ns" link add "node$i" type veth peer name eth0 netns "$ns"
        ip -n "$switch_ns" link set "node$i" master br0 up
        ip -n "$ns" addr add "$(node_ip "$i")/24" dev eth0
        ip -n "$ns" link set eth0 up
        ip -n "$ns" link set lo up
        ip -n "$ns" route add default via "$host_ip"
        ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
        ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.route_localnet=1
        ip netns exec "$ns" iptables -t nat -A POSTROUTING -s "$cluster_cidr" ! -d "$cluster_cidr" \
            -m comment --comment "labsh: pods leaving the cluster CIDR" -j MASQUERADE
    done
}

# mount_namespaces: one per node, kept in DIR/ns/mnt-I, with DIR/nodes/I/log on /var/log.
# Slave propagation: the host's unmounts (a namespace deleted under /run/netns) still reach
# it, and nothing mounted in it (kubelet volumes, pod network namespaces) shows on the host.
mount_namespaces() {
    mkdir -p "$dir/ns"
    # A private mount of its own: unshare can only keep a namespace on a private mount.
    mount --bind "$dir/ns" "$dir/ns"
    mount --make-private "$dir/ns"
    local i f m
    for i in $(seq "$nodes"); do
        f="$(mnt_ns "$i")"
        touch "$f"
        unshare --mount="$f" --propagation slave true
        # The copies of the host's namespace files (Docker's, other clusters', the other
        # nodes' mount namespaces) would keep those namespaces alive after their owners
        # delete them: this node needs none of them.
        for m in $(nsenter --mount="$f" findmnt -rn -t nsfs -o TARGET | sort -r); do
            nsenter --mount="$f" umount -l "$m"
        done
        nsenter --mount="$f" mount --bind "$(node_dir "$i")/log" /var/log
    done
}

# start_node I: containerd, the images, the kubelet and kube-proxy of node I.
start_node() {
    local i="$1" nd name
    nd="$(node_dir "$i")"
    name="$(node_name "$i")"
    start "containerd-$i" --in-node "$i" containerd --config "$nd/containerd/config.toml"
    local ctr=(ctr --address "$nd/containerd/containerd.sock" --namespace k8s.io)
    wait_for "containerd of $name" 30 "${ctr[@]}" version
    local image
    for image in "$images"/*.tar; do
        "${ctr[@]}" images import --snapshotter native "$image" >/dev/null
    done
    start "kubelet-$i" --in-node "$i" "$bin/kubelet" \
        --config "$nd/kubelet/config.yaml" \
        --kubeconfig "$dir/kubeconfig" \
        --container-runtime remote \
        --container-runtime-endpoint "unix://$nd/containerd/containerd.sock" \
        --root-dir "$nd/kubelet" --cert-dir "$nd/kubelet/pki" \
        --node-ip "$(node_ip "$i")" --hostname-override "$name" \
        --pod-infra-container-image k8s.gcr.io/pause:3.2 \
        --oom-score-adj 0 \
        --v 1
    [ "$kube_proxy" = yes ] || return 0
    start "kube-proxy-$i" --in-node "$i" "$bin/kube-proxy" \
        --kubeconfig "$dir/kubeconfig" --hostname-override "$name" \
        --proxy-mode iptables --cluster-cidr "$cluster_cidr" \
        --oom-score-adj 0 --conntrack-max-per-core 0 \
        --conntrack-tcp-timeout-established 0 --conntrack-tcp-timeout-close-wait 0 \
        --metrics-bind-address 127.0.0.1:10249 --healthz-bind-address 127.0.0.1:10256
}

pod_cidr_of() { kubectl_ get node "$1" -o jsonpath='{.spec.podCIDR}'; }

node_ready() {
    kubectl_ get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -qx True
}

up() {
    if alive kube-apiserver; then
        log "already up in $dir"
        echo "$dir/kubeconfig"
        return 0
    fi
    local started=$SECONDS
    [ "$(id -u)" -eq 0 ] || die "needs root (network and mount namespaces, containerd, kubelet)"
    command -v etcd >/dev/null || die "missing etcd (apt-get install etcd-server)"
    command -v containerd >/dev/null || die "missing containerd (apt-get install containerd)"
    command -v openssl >/dev/null || die "missing openssl (apt-get install openssl)"
    command -v iptables >/dev/null || die "missing iptables (apt-get install iptables)"
    command -v ss >/dev/null || die "missing ss (apt-get install iproute2)"
    [ -x "${LABSH_CNI_BIN:-/usr/lib/cni}/bridge" ] \
        || die "missing CNI plugins in ${LABSH_CNI_BIN:-/usr/lib/cni} (apt-get install containernetworking-plugins)"
    local cache
    cache="$("$here/build.sh")"
    bin="$cache/bin"
    images="$("$here/images.sh" "$bin")"

    rm -rf "$dir"
    mkdir -p "$dir/logs" "$dir/pids"
    echo "$bin" >"$dir/bin-dir"
    echo "$nodes" >"$dir/nodes-count"
    if [ -n "$owner" ]; then
        # Started first, so that a failure below is cleaned up as well once the owner exits.
        setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; exec "$2" down "$3"' \
            watcher "$owner" "$here/cluster.sh" "$dir" >"$dir/logs/watcher.log" 2>&1 </dev/null &
        echo $! >"$(pidfile watcher)"
    fi
    trap 'log "up failed; cleaning up"; down' ERR

    free_subnet
    free_ports
    addresses
    network
    local i
    for i in $(seq "$nodes"); do
        node_configs "$i"
    done
    mount_namespaces

    certs
    local admin_token nobody_token
    admin_token="$(openssl rand -hex 16)"
    nobody_token="$(openssl rand -hex 16)"
    cat >"$dir/tokens.csv" <<EOC
$admin_token,admin,admin,"system:masters"
$nobody_token,nobody,nobody
EOC
    kubeconfig "$dir/kubeconfig" admin "$admin_token"
    kubeconfig "$dir/kubeconfig-nobody" nobody "$nobody_token"

    log "etcd on 127.0.0.1:$etcd_port"
    start etcd etcd --name labsh --data-dir "$dir/etcd" \
        --listen-client-urls "http://127.0.0.1:$etcd_port" \
        --advertise-client-urls "http://127.0.0.1:$etcd_port" \
        --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" \
        --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
        --initial-cluster "labsh=http://127.0.0.1:$etcd_peer_port"
    wait_for etcd 30 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' etcd "$etcd_port"

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

    log "kube-controller-manager (podCIDRs: /24s of $cluster_cidr), kube-scheduler"
    start kube-controller-manager "$bin/kube-controller-manager" \
        --kubeconfig "$dir/kubeconfig" --authentication-kubeconfig "$dir/kubeconfig" \
        --authorization-kubeconfig "$dir/kubeconfig" \
        --service-account-private-key-file "$dir/pki/sa.key" --root-ca-file "$dir/pki/ca.crt" \
        --allocate-node-cidrs --cluster-cidr "$cluster_cidr" --node-cidr-mask-size 24 \
        --service-cluster-ip-range "$service_cidr" \
        --leader-elect=false \
        --port 0 --secure-port "$cm_port" --bind-address 127.0.0.1 \
        --cert-dir "$dir/pki/cm-generated"
    start kube-scheduler "$bin/kube-scheduler" \
        --kubeconfig "$dir/kubeconfig" --authentication-kubeconfig "$dir/kubeconfig" \
        --authorization-kubeconfig "$dir/kubeconfig" --leader-elect=false \
        --port 0 --secure-port "$sched_port" --bind-address 127.0.0.1 \
        --cert-dir "$dir/pki/sched-generated"

    for i in $(seq "$nodes"); do
        log "node $(node_name "$i") at $(node_ip "$i"): containerd, images, kubelet$([ "$kube_proxy" = no ] || echo ", kube-proxy")"
        start_node "$i"
    done
    # Each node's podCIDR, routed via that node from every other node.
    local j cidr
    for i in $(seq "$nodes"); do
        wait_for "a podCIDR for $(node_name "$i")" 120 bash -c '[ -n "$("$@")" ]' cidr \
            "$bin/kubectl" --kubeconfig "$dir/kubeconfig" get node "$(node_name "$i")" \
            -o 'jsonpath={.spec.podCIDR}'
        cidr="$(pod_cidr_of "$(node_name "$i")")"
        log "node $(node_name "$i"): podCIDR $cidr"
        for j in $(seq "$nodes"); do
            [ "$j" -eq "$i" ] || ip -n "$(node_ns "$j")" route add "$cidr" via "$(node_ip "$i")"
        done
    done
    if [ "$cni" = none ]; then
        log "--cni none: the nodes stay NotReady until a network plugin writes its config in DIR/nodes/I/cni/net.d"
    else
        for i in $(seq "$nodes"); do
            wait_for "node $(node_name "$i") to be Ready" 120 node_ready "$(node_name "$i")"
        done
    fi
    wait_for "the default service account" 60 kubectl_ get serviceaccount default
    trap - ERR
    {
        echo "LABSH_K8S_NODES=$nodes"
        echo "LABSH_K8S_HOST_IP=$host_ip"
        echo "LABSH_K8S_KUBECTL=$bin/kubectl"
        echo "LABSH_K8S_NODE_IP=$(node_ip 1)"
        echo "LABSH_K8S_NODE=$(node_name 1)"
        echo "LABSH_K8S_NETNS=$(node_ns 1)"
        echo "LABSH_K8S_MNTNS=$(mnt_ns 1)"
        echo "LABSH_K8S_CNI_CONF_DIR=$(node_dir 1)/cni/net.d"
        echo "LABSH_K8S_API=https://$host_ip:$api_port"
        echo "LABSH_K8S_CLUSTER_CIDR=$cluster_cidr"
        echo "LABSH_K8S_CNI=$cni"
        echo "LABSH_K8S_KUBE_PROXY=$kube_proxy"
        for i in $(seq 2 "$nodes"); do
            echo "LABSH_K8S_NODE_IP_$i=$(node_ip "$i")"
            echo "LABSH_K8S_NODE_$i=$(node_name "$i")"
            echo "LABSH_K8S_NETNS_$i=$(node_ns "$i")"
            echo "LABSH_K8S_MNTNS_$i=$(mnt_ns "$i")"
            echo "LABSH_K8S_CNI_CONF_DIR_$i=$(node_dir "$i")/cni/net.d"
        done
    } >"$dir/env"
    log "up in $((SECONDS - started))s: $nodes node(s), $(kubectl_ version --short 2>/dev/null | tail -1)"
    echo "$dir/kubeconfig"
}

case "$cmd" in
    up) up ;;
    down) down ;;
    *) usage ;;
esac
