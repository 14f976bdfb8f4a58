#!/usr/bin/env bash
# Builds and caches everything the one-node cluster (make cluster) runs that
# Debian does not ship: the Kubernetes node components, the CNI plugins and a
# slim CoreDNS, all from Go sources through the module proxy (prebuilt
# binaries cannot be downloaded on our machines). Each part lives in a folder
# named after its pinned version, so a part is rebuilt only when its pin
# changes. With "packages" it installs the Debian packages instead.
#
# usage: hack/cluster-binaries.sh [kube|cni|coredns|packages|all]...
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
k8s_version="${ENVTEST_K8S_VERSION:-v1.37.0}"
cni_version="${CNI_PLUGINS_VERSION:-v1.10.0}"
coredns_version="${COREDNS_VERSION:-v1.15.0}"

kube_out="$root/bin/cluster/$k8s_version"
cni_out="$root/bin/cni/$cni_version"
coredns_out="$root/bin/coredns/$coredns_version"

took() { echo "$(( $(date +%s) - $1 ))s"; }

# build_kube builds one component of k8s.io/kubernetes through the mains in
# hack/envtest, which pins the same release as the envtest API server.
build_kube() {
  local name="$1" start
  if [[ -x "$kube_out/$name" ]]; then
    echo "cluster-binaries: using cached $name $k8s_version"
    return
  fi
  start=$(date +%s)
  echo "cluster-binaries: building $name $k8s_version (cold: several minutes on 2 cores; warm: under a minute)..."
  (cd "$root/hack/envtest" && go build -ldflags "-X k8s.io/component-base/version.gitVersion=$k8s_version" \
    -o "$kube_out/$name.tmp" "./$name")
  mv "$kube_out/$name.tmp" "$kube_out/$name"
  echo "cluster-binaries: built $name in $(took "$start")"
}

kube() {
  mkdir -p "$kube_out"
  for name in kube-controller-manager kube-scheduler kubelet kube-proxy; do build_kube "$name"; done
}

cni() {
  local plugins=(main/bridge ipam/host-local main/loopback meta/portmap) missing=0 p start
  for p in "${plugins[@]}"; do [[ -x "$cni_out/${p##*/}" ]] || missing=1; done
  if (( ! missing )); then
    echo "cluster-binaries: using cached CNI plugins $cni_version"
    return
  fi
  start=$(date +%s)
  echo "cluster-binaries: building CNI plugins $cni_version: bridge, host-local, loopback, portmap (about a minute)..."
  mkdir -p "$cni_out"
  local pkgs=()
  for p in "${plugins[@]}"; do pkgs+=("github.com/containernetworking/plugins/plugins/$p@$cni_version"); done
  GOBIN="$cni_out" CGO_ENABLED=0 go install "${pkgs[@]}"
  echo "cluster-binaries: built CNI plugins in $(took "$start")"
}

coredns() {
  if [[ -x "$coredns_out/coredns" ]]; then
    echo "cluster-binaries: using cached coredns $coredns_version"
    return
  fi
  start=$(date +%s)
  echo "cluster-binaries: building a slim coredns $coredns_version (only the plugins our Corefile uses; cold: a few minutes)..."
  mkdir -p "$coredns_out"
  (cd "$root/hack/coredns" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$coredns_out/coredns.tmp" .)
  mv "$coredns_out/coredns.tmp" "$coredns_out/coredns"
  echo "cluster-binaries: built coredns in $(took "$start")"
}

# packages installs what Debian ships. The lock timeout matters: another
# engineer or CI step may run apt at the same moment.
packages() {
  local want=(containerd runc iptables conntrack) missing=() p start
  for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if (( ${#missing[@]} == 0 )); then
    echo "cluster-binaries: Debian packages present: ${want[*]}"
    return
  fi
  if [[ $(id -u) != 0 ]]; then
    echo "cluster-binaries: missing Debian packages ${missing[*]}; installing them needs root" >&2
    exit 1
  fi
  start=$(date +%s)
  echo "cluster-binaries: installing Debian packages ${missing[*]} (about a minute)..."
  apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}" ||
    { apt-get -o DPkg::Lock::Timeout=600 update && apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}"; }
  # Debian's package starts a system containerd; the cluster runs its own with
  # its own socket, so the system one would only compete for the same cgroups.
  if command -v systemctl >/dev/null && systemctl is-active --quiet containerd 2>/dev/null; then
    echo "cluster-binaries: note: a system containerd is running too; the cluster does not use it"
  fi
  echo "cluster-binaries: installed in $(took "$start")"
}

[[ $# -gt 0 ]] || set -- all
for part in "$@"; do
  case "$part" in
    kube|cni|coredns|packages) "$part" ;;
    all) packages; cni; coredns; kube ;;
    *) echo "usage: $0 [kube|cni|coredns|packages|all]..." >&2; exit 2 ;;
  esac
done
