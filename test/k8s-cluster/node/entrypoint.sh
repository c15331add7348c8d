#!/bin/bash
# PID-1 script (under tini) of the one-node test cluster that scripts/cluster.sh starts: containerd, etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler, kubelet and kube-proxy in this one container,
# with certificates and kubeconfigs written here on first start, as upstream documents for a cluster set
# up by hand ("PKI certificates and requirements"; each component's reference page for the flags).
#
# Without --privileged (refused on these VMs) Docker mounts /sys and the cgroup hierarchies read-only:
# they are remounted read-write so that kubelet and runc can create cgroups. Every component is kept
# running by a restart loop and logs to /var/log/k8s/<name>.log (scripts/cluster.sh prints them on a
# failure). The node is ready for scripts/cluster.sh when /run/k8s-node/started exists.
set -euo pipefail
BIN=/opt/k8s/bin
PKI=/etc/kubernetes/pki
CONF=/etc/kubernetes
LOGS=/var/log/k8s
NODE_NAME="${NODE_NAME:?}"
SERVICE_CIDR="${SERVICE_CIDR:-10.96.0.0/16}"
POD_CIDR="${POD_CIDR:-10.244.0.0/16}"
API_SERVICE_IP="${API_SERVICE_IP:-10.96.0.1}"
DNS_SERVICE_IP="${DNS_SERVICE_IP:-10.96.0.10}"
PAUSE_IMAGE="${PAUSE_IMAGE:?}"
mkdir -p "$LOGS" /run/k8s-node
log() { echo "node: $*" | tee -a "$LOGS/node.log"; }

# ---------------------------------------------------------------- kernel interfaces
mount -o remount,rw /sys 2>/dev/null || true
mount -o remount,rw /sys/fs/cgroup 2>/dev/null || true
for d in /sys/fs/cgroup/*; do [[ -d "$d" ]] && { mount -o remount,bind,rw "$d" 2>/dev/null || true; }; done
# kubelet's OOM watcher reads the kernel log; cAdvisor wants a machine id
[[ -e /dev/kmsg ]] || mknod -m 0600 /dev/kmsg c 1 11
[[ -s /etc/machine-id ]] || tr -d - < /proc/sys/kernel/random/uuid > /etc/machine-id
# mounts made by kubelet for pod volumes must reach containerd's containers
mount --make-rshared / 2>/dev/null || true
sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null || log "net.bridge.bridge-nf-call-iptables not settable (Services to pods on this bridge may not work)"
NODE_IP="$(ip -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1)"
[[ -n "$NODE_IP" ]] || { log "no IPv4 address on eth0"; exit 1; }

# ---------------------------------------------------------------- PKI (first start only)
sign() { # name subject [extfile-lines]: key + certificate signed by the cluster CA
  local name="$1" subj="$2" ext="${3:-}"
  openssl genrsa -out "$PKI/$name.key" 2048 2>/dev/null
  openssl req -new -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
  printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" "$ext" > "$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 7 -sha256 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}
kubeconfig() { # file user-cert-name: a kubeconfig for https://127.0.0.1:6443 with that client certificate
  cat > "$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: mydocs-test
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: $PKI/ca.crt
users:
- name: $2
  user:
    client-certificate: $PKI/$2.crt
    client-key: $PKI/$2.key
contexts:
- name: mydocs-test
  context: {cluster: mydocs-test, user: $2}
current-context: mydocs-test
EOF
}
if [[ ! -s "$PKI/ca.crt" ]]; then
  log "writing the cluster PKI (CA valid 7 days: the cluster is disposable)"
  mkdir -p "$PKI"; chmod 0700 "$PKI"
  openssl genrsa -out "$PKI/ca.key" 2048 2>/dev/null
  openssl req -x509 -new -key "$PKI/ca.key" -subj "/CN=mydocs-test-cluster-ca" -days 7 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$PKI/ca.crt" 2>/dev/null
  serving="extendedKeyUsage=serverAuth"
  client="extendedKeyUsage=clientAuth"
  sign apiserver "/CN=kube-apiserver" "$serving
subjectAltName=DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:127.0.0.1,IP:$API_SERVICE_IP,IP:$NODE_IP"
  sign kubelet "/CN=$NODE_NAME" "$serving
subjectAltName=DNS:$NODE_NAME,DNS:localhost,IP:127.0.0.1,IP:$NODE_IP"
  sign apiserver-kubelet-client "/O=kubeadm:cluster-admins/CN=kube-apiserver-kubelet-client" "$client"
  sign admin "/O=system:masters/CN=mydocs-test-admin" "$client"
  sign controller-manager "/CN=system:kube-controller-manager" "$client"
  sign scheduler "/CN=system:kube-scheduler" "$client"
  sign node "/O=system:nodes/CN=system:node:$NODE_NAME" "$client"
  sign kube-proxy "/CN=system:kube-proxy" "$client"
  openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
  openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  for u in admin controller-manager scheduler node kube-proxy; do kubeconfig "$CONF/$u.conf" "$u"; done
fi

# ---------------------------------------------------------------- configuration files
mkdir -p /etc/containerd /etc/cni/net.d /var/lib/kubelet /var/lib/kube-proxy /var/lib/etcd
cat > /etc/containerd/config.toml <<EOF
version = 2
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # without CAP_SYS_RESOURCE (these VMs withhold it) no process may lower its OOM score below ours:
  # clamp what the kubelet asks for (-998 for sandboxes, -997 for Guaranteed pods) instead of failing
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "/etc/cni/net.d"
EOF
# one node: a bridge with host-local addresses is the whole pod network (no overlay needed)
cat > /etc/cni/net.d/10-mydocs.conflist <<EOF
{
  "cniVersion": "1.0.0",
  "name": "mydocs-pods",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "${POD_CIDR%.*.*}.0.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "loopback"}
  ]
}
EOF
cat > /var/lib/kubelet/config.yaml <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
clusterDNS: [$DNS_SERVICE_IP]
clusterDomain: cluster.local
tlsCertFile: $PKI/kubelet.crt
tlsPrivateKeyFile: $PKI/kubelet.key
failSwapOn: false
# a shared CI disk: never evict the test pods for a full-ish disk, never collect their images
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
imageGCHighThresholdPercent: 100
serializeImagePulls: false
EOF
cat > /var/lib/kube-proxy/config.yaml <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clusterCIDR: $POD_CIDR
clientConnection: {kubeconfig: $CONF/kube-proxy.conf}
# the conntrack table is the host's: leave its size alone
conntrack: {maxPerCore: 0}
EOF

# ---------------------------------------------------------------- components
keep() { # name command...: run it, restart it when it exits
  local name="$1"; shift
  ( while true; do
      echo "--- start $(date -u +%FT%TZ)" >> "$LOGS/$name.log"
      "$@" >> "$LOGS/$name.log" 2>&1 || true
      sleep 2
    done ) &
}
wait_for() { # description command...: up to 90 s
  local i; for i in $(seq 180); do "${@:2}" >/dev/null 2>&1 && return 0; sleep 0.5; done
  log "timed out waiting for $1"; return 1
}

keep containerd containerd --config /etc/containerd/config.toml
keep etcd "$BIN/etcd" --name "$NODE_NAME" --data-dir /var/lib/etcd \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster "$NODE_NAME=http://127.0.0.1:2380" --unsafe-no-fsync --quota-backend-bytes 2147483648
wait_for etcd curl -fsS http://127.0.0.1:2379/health
keep kube-apiserver "$BIN/kube-apiserver" --advertise-address "$NODE_IP" --bind-address 0.0.0.0 --secure-port 6443 \
  --etcd-servers http://127.0.0.1:2379 --service-cluster-ip-range "$SERVICE_CIDR" \
  --client-ca-file "$PKI/ca.crt" --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
  --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
  --kubelet-certificate-authority "$PKI/ca.crt" --kubelet-preferred-address-types InternalIP \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
  --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
  --anonymous-auth=false --profiling=false --allow-privileged=false
wait_for kube-apiserver curl -fsS --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" https://127.0.0.1:6443/readyz
keep kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig "$CONF/controller-manager.conf" \
  --authentication-kubeconfig "$CONF/controller-manager.conf" --authorization-kubeconfig "$CONF/controller-manager.conf" \
  --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" --use-service-account-credentials \
  --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
  --service-cluster-ip-range "$SERVICE_CIDR" --leader-elect=false --profiling=false
keep kube-scheduler "$BIN/kube-scheduler" --kubeconfig "$CONF/scheduler.conf" \
  --authentication-kubeconfig "$CONF/scheduler.conf" --authorization-kubeconfig "$CONF/scheduler.conf" \
  --leader-elect=false --profiling=false
wait_for containerd ctr version
keep kubelet "$BIN/kubelet" --config /var/lib/kubelet/config.yaml --kubeconfig "$CONF/node.conf" \
  --hostname-override "$NODE_NAME" --node-ip "$NODE_IP"
keep kube-proxy "$BIN/kube-proxy" --config /var/lib/kube-proxy/config.yaml --hostname-override "$NODE_NAME"
touch /run/k8s-node/started
log "components started (node $NODE_NAME, $NODE_IP)"
wait
