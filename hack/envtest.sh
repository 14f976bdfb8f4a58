#!/usr/bin/env bash
# Builds the kube-apiserver and etcd that integration tests run against, from
# Go sources through the module proxy (prebuilt binaries cannot be downloaded
# on our machines). The result is cached in bin/envtest/<version> and rebuilt
# only when the pinned version changes.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
version="${ENVTEST_K8S_VERSION:-v1.37.0}"
out="$root/bin/envtest/$version"

if [[ -x "$out/kube-apiserver" && -x "$out/etcd" ]]; then
  echo "envtest: using cached kube-apiserver and etcd $version in $out"
  exit 0
fi

mkdir -p "$out"
cd "$root/hack/envtest"
start=$(date +%s)
if [[ ! -x "$out/etcd" ]]; then
  echo "envtest: building etcd (the first build takes a few minutes)..."
  go build -o "$out/etcd.tmp" ./etcd
  mv "$out/etcd.tmp" "$out/etcd"
fi
echo "envtest: building kube-apiserver $version (the first build takes a few minutes)..."
go build -ldflags "-X k8s.io/component-base/version.gitVersion=$version" -o "$out/kube-apiserver.tmp" ./kube-apiserver
mv "$out/kube-apiserver.tmp" "$out/kube-apiserver"
echo "envtest: built in $(( $(date +%s) - start ))s into $out"
