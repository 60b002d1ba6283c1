# shellcheck shell=bash
# A real kube-apiserver + etcd on loopback for the knative target's tests. Sourced after
# scripts/lib/services.sh (uses _say, _fail, _locked, _apt_install, _pkg_installed).
#
# This machine reaches only Debian's packages and npm, so kube-apiserver is built once from Debian bookworm's
# `kubernetes` 1.20.2 source package (which vendors its Go dependencies) with Debian's Go 1.19, and cached:
#   $SLIPWAY_KUBE_CACHE/kube-apiserver-1.20.2     (default ~/.cache/slipway)
# Go 1.19 crashes the 1.20.2 tree's vendored modern-go/reflect2 (it reads runtime internals that moved), so the
# vendored copy is replaced by Debian's golang-github-modern-go-reflect2-dev 1.0.2 before building.
# etcd comes from Debian's etcd-server (3.4).
#
# The tests start their own apiserver/etcd pair on free loopback ports (test/helpers/kube.ts); this file only
# makes sure the binaries exist and exports where they are.

SLIPWAY_KUBE_CACHE=${SLIPWAY_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/slipway}
SLIPWAY_KUBE_VERSION=1.20.2
SLIPWAY_KUBE_APISERVER=${SLIPWAY_KUBE_APISERVER:-$SLIPWAY_KUBE_CACHE/kube-apiserver-$SLIPWAY_KUBE_VERSION}
SLIPWAY_KUBE_BUILD_LOG=${SLIPWAY_KUBE_BUILD_LOG:-/var/log/slipway-kube-build.log}

# deb-src for the same suites as the binary entries, so `apt-get source` finds the package.
_ensure_deb_src() {
  local f=/etc/apt/sources.list.d/slipway-deb-src.sources
  [[ -f $f ]] && return 0
  cat >"$f" <<'EOF'
# Added by Slipway (scripts/lib/kube.sh): the kubernetes source package builds the test kube-apiserver.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  _SLIPWAY_APT_UPDATED= # the new source list needs an update
}

_build_kube_apiserver() {
  local pkg missing=()
  for pkg in golang-go golang-github-modern-go-reflect2-dev dpkg-dev rsync; do
    _pkg_installed "$pkg" || missing+=("$pkg")
  done
  _ensure_deb_src || return 1
  # apt-get update runs inside _apt_install; with nothing missing we still need it for the new deb-src.
  if ((${#missing[@]})); then _apt_install "${missing[@]}" || return 1
  else apt-get update -q >>/var/log/slipway-apt.log 2>&1 || { _fail "apt-get update"; return 1; }; fi

  local work
  work=$(mktemp -d "$SLIPWAY_KUBE_CACHE/build.XXXXXX") || return 1
  _say "kube-apiserver: building $SLIPWAY_KUBE_VERSION from Debian's source package (log $SLIPWAY_KUBE_BUILD_LOG; about 10 minutes, once)"
  (
    set -euo pipefail
    cd "$work"
    apt-get source -q --download-only "kubernetes=$SLIPWAY_KUBE_VERSION*" || apt-get source -q --download-only kubernetes
    dpkg-source --no-check -x kubernetes_*.dsc src
    cd src
    # The vendored reflect2 (1.0.1-era) segfaults under Go 1.19: use Debian's 1.0.2.
    rsync -a --delete --exclude '*_test.go' /usr/share/gocode/src/github.com/modern-go/reflect2/ vendor/github.com/modern-go/reflect2/
    sed -i -E 's#(github.com/modern-go/reflect2) v1\.0\.[0-9]+#\1 v1.0.2#' go.mod vendor/modules.txt
    # Debian's tree has no .git, so version.sh needs the version handed in.
    export KUBE_GIT_VERSION="v$SLIPWAY_KUBE_VERSION" KUBE_GIT_TREE_STATE=clean KUBE_GIT_COMMIT=debian
    export GOFLAGS=-mod=vendor GO111MODULE=on GOCACHE="$work/gocache" GOPATH="$work/gopath"
    make WHAT=cmd/kube-apiserver
    bin=$(find _output -type f -name kube-apiserver -perm -u+x | head -n1)
    [[ -n $bin ]]
    "$bin" --version
    install -m 0755 "$bin" "$SLIPWAY_KUBE_APISERVER.tmp"
    mv "$SLIPWAY_KUBE_APISERVER.tmp" "$SLIPWAY_KUBE_APISERVER"
  ) >>"$SLIPWAY_KUBE_BUILD_LOG" 2>&1
  local rc=$?
  rm -rf "$work"
  if ((rc != 0)); then
    tail -n 30 "$SLIPWAY_KUBE_BUILD_LOG" >&2
    _fail "kube-apiserver: build failed (log $SLIPWAY_KUBE_BUILD_LOG)"
    return 1
  fi
  _say "kube-apiserver: built $SLIPWAY_KUBE_APISERVER"
}

_ensure_kube() {
  mkdir -p "$SLIPWAY_KUBE_CACHE"
  _pkg_installed etcd-server || _apt_install etcd-server || return 1
  # The Debian package starts etcd as a service on :2379; the tests run their own on free ports.
  if [[ -x $SLIPWAY_KUBE_APISERVER ]] && "$SLIPWAY_KUBE_APISERVER" --version >/dev/null 2>&1; then
    _say "kube-apiserver: cached $SLIPWAY_KUBE_APISERVER"
  else
    _build_kube_apiserver || return 1
  fi
  export SLIPWAY_TEST_KUBE_APISERVER=$SLIPWAY_KUBE_APISERVER
  export SLIPWAY_TEST_ETCD=${SLIPWAY_TEST_ETCD:-$(command -v etcd || echo /usr/bin/etcd)}
}
# Not under the services lock for the whole build (10 minutes would starve other setups): the build writes to
# a private temp dir and installs with an atomic rename, so two concurrent builds only waste time.
ensure_kube() { _ensure_kube; }
