# shellcheck shell=bash
# Slipway local services: sourced by scripts/setup.sh and scripts/test.sh (and scripts/up.sh).
#
# Every ensure_* function is idempotent: it reuses what is installed and running, installs or starts
# only what is missing, and prints one short line saying what it did. They return non-zero (and print
# the reason on stderr) on failure. They run as root (CI and these VMs do).
#
# Layout (see README.md, "Local machine layout"):
#   Docker Engine   /var/run/docker.sock      started as `dockerd --iptables=false --bridge=none …`,
#                                             log /var/log/slipway-dockerd.log
#   registry        http://127.0.0.1:5000     Debian docker-registry, config /etc/slipway/registry.yml,
#                                             storage /var/lib/docker-registry, log /var/log/slipway-registry.log
#   Redis           127.0.0.1:6379
#   PostgreSQL      127.0.0.1:5432            trust auth, database slipway_test
#   base image      127.0.0.1:5000/slipway/busybox:latest   (FROM scratch + static busybox, built offline)
#
# Overridable: SLIPWAY_DOCKER_STORAGE_DRIVER (default: whatever dockerd picks, vfs as fallback),
#              SLIPWAY_DOCKER_CLI (default /usr/bin/docker, see _docker).

SLIPWAY_DOCKER_SOCK=${SLIPWAY_DOCKER_SOCK:-/var/run/docker.sock}
SLIPWAY_DOCKERD_LOG=${SLIPWAY_DOCKERD_LOG:-/var/log/slipway-dockerd.log}
SLIPWAY_REGISTRY_ADDR=${SLIPWAY_REGISTRY_ADDR:-127.0.0.1:5000}
SLIPWAY_REGISTRY_CONFIG=${SLIPWAY_REGISTRY_CONFIG:-/etc/slipway/registry.yml}
SLIPWAY_REGISTRY_DIR=${SLIPWAY_REGISTRY_DIR:-/var/lib/docker-registry}
SLIPWAY_REGISTRY_LOG=${SLIPWAY_REGISTRY_LOG:-/var/log/slipway-registry.log}
SLIPWAY_BASE_IMAGE=${SLIPWAY_BASE_IMAGE:-$SLIPWAY_REGISTRY_ADDR/slipway/busybox:latest}
SLIPWAY_PG_DATABASE=${SLIPWAY_PG_DATABASE:-slipway_test}
SLIPWAY_SERVICES_LOCK=${SLIPWAY_SERVICES_LOCK:-/run/lock/slipway-services.lock}
_SLIPWAY_APT_UPDATED=${_SLIPWAY_APT_UPDATED:-}

_say() { printf '[slipway] %s\n' "$*"; }
_fail() { printf '[slipway] FAILED: %s\n' "$*" >&2; return 1; }

# Serialize concurrent setup runs (several engineers / CI jobs on one VM) on fd 9.
# Background daemons are started with 9>&- so they never inherit (and hold) the lock.
_lock() {
  mkdir -p "$(dirname "$SLIPWAY_SERVICES_LOCK")"
  exec 9>>"$SLIPWAY_SERVICES_LOCK"
  flock -w 600 9 || _fail "could not take $SLIPWAY_SERVICES_LOCK within 600 s"
}
_unlock() { exec 9>&-; }
# Run a function under the lock; the lock is released whatever it returns.
_locked() {
  _lock || return 1
  local rc=0
  "$@" || rc=$?
  _unlock
  return "$rc"
}

# The Docker CLI to use. This VM has a Docker CLI 28 in /usr/local/bin (ahead of /usr/bin in PATH) without
# the buildx plugin: `DOCKER_BUILDKIT=1 docker build` fails with it ("buildx component is missing").
# Debian's /usr/bin/docker (20.10) talks to the Engine's built-in BuildKit directly, so prefer it.
_docker() {
  local cli=${SLIPWAY_DOCKER_CLI:-}
  if [[ -z $cli ]]; then
    if [[ -x /usr/bin/docker ]]; then cli=/usr/bin/docker; else cli=docker; fi
  fi
  "$cli" "$@"
}

# ---------------------------------------------------------------------------------------------- packages

_pkg_installed() {
  [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

_wait_for_apt() {
  local waited=0
  while pgrep -x apt-get >/dev/null || pgrep -x apt >/dev/null || pgrep -x dpkg >/dev/null \
    || pgrep -x unattended-upgr >/dev/null; do
    ((waited == 0)) && _say "apt: waiting for another apt-get/dpkg to finish"
    ((waited >= 900)) && { _fail "apt: still busy after 900 s"; return 1; }
    sleep 3
    waited=$((waited + 3))
  done
}

# _apt_install PKG... — apt-get update (once per shell), then install. Output goes to /var/log/slipway-apt.log.
_apt_install() {
  ((EUID == 0)) || { _fail "must run as root to install: $*"; return 1; }
  _wait_for_apt || return 1
  local log=/var/log/slipway-apt.log
  export DEBIAN_FRONTEND=noninteractive
  if [[ -z $_SLIPWAY_APT_UPDATED ]]; then
    apt-get update -q >>"$log" 2>&1 || { tail -n 20 "$log" >&2; _fail "apt-get update (log $log)"; return 1; }
    _SLIPWAY_APT_UPDATED=1
  fi
  apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" >>"$log" 2>&1 \
    || { tail -n 20 "$log" >&2; _fail "apt-get install $* (log $log)"; return 1; }
}

_ensure_packages() {
  local pkg missing=()
  for pkg in docker.io docker-registry redis-server git musl-tools make ca-certificates busybox-static curl apache2-utils openssl openssh-server; do
    _pkg_installed "$pkg" || missing+=("$pkg")
  done
  # psql/pg_isready come from postgresql-client-NN (pulled in by the server too); the metapackage is optional.
  if ! command -v psql >/dev/null || ! command -v pg_isready >/dev/null; then
    _pkg_installed postgresql-client || missing+=(postgresql-client)
  fi
  # C toolchain: the enforcer (musl-gcc wraps gcc) and node-gyp builds (better-sqlite3) need gcc/g++.
  command -v gcc >/dev/null || missing+=(gcc)
  command -v g++ >/dev/null || missing+=(g++)
  if ((${#missing[@]} == 0)); then
    _say "packages: all present"
    return 0
  fi
  _apt_install "${missing[@]}" || return 1
  _say "packages: installed ${missing[*]}"
}
ensure_packages() { _locked _ensure_packages; }

# ------------------------------------------------------------------------------------------ docker engine

_docker_answers() {
  curl -fsS -m 3 --unix-socket "$SLIPWAY_DOCKER_SOCK" http://localhost/_ping >/dev/null 2>&1
}

# A live process (not a zombie: PID 1 on these VMs reaps orphans only now and then).
_alive() {
  local st
  st=$(ps -o stat= -p "$1" 2>/dev/null) && [[ -n $st && $st != Z* ]]
}

_dockerd_pid() {
  local pid
  pid=$(cat /var/run/docker.pid 2>/dev/null) || return 1
  [[ -n $pid ]] && _alive "$pid" && echo "$pid"
}

# _wait_for_docker SECONDS PID — 0 when the socket answers; 1 on timeout or when PID died.
_wait_for_docker() {
  local timeout=$1 pid=${2:-} start=$SECONDS
  while ((SECONDS - start < timeout)); do
    _docker_answers && return 0
    if [[ -n $pid ]] && ! _alive "$pid"; then return 1; fi
    sleep 0.5
  done
  return 1
}

# _start_dockerd [STORAGE_DRIVER] — start in its own session; prints the pid.
_start_dockerd() {
  local driver=${1:-}
  # No bridge networking on these machines: no docker0, no iptables/NAT rules, no ip_forward sysctl change.
  local args=(--iptables=false --ip6tables=false --bridge=none --ip-forward=false --ip-masq=false)
  [[ -n $driver ]] && args+=("--storage-driver=$driver")
  # dockerd starts and supervises its own containerd (/var/run/docker/containerd/containerd.sock) unless a
  # system containerd answers on /run/containerd/containerd.sock. After a `kill -9` of dockerd, that containerd
  # dies too but stays a zombie until PID 1 reaps it; dockerd then takes it for alive ("containerd is still
  # running"), waits for its socket and gives up after ~10 s. Drop a pid file that names no live process.
  local cpid
  cpid=$(cat /var/run/docker/containerd/containerd.pid 2>/dev/null) || cpid=""
  if [[ -n $cpid ]] && ! _alive "$cpid"; then rm -f /var/run/docker/containerd/containerd.pid; fi
  rm -f /var/run/docker.pid # stale: its process is gone (checked by the caller)
  mkdir -p "$(dirname "$SLIPWAY_DOCKERD_LOG")"
  printf '\n==== %s slipway: dockerd %s\n' "$(date -Is)" "${args[*]}" >>"$SLIPWAY_DOCKERD_LOG"
  setsid nohup dockerd "${args[@]}" </dev/null >>"$SLIPWAY_DOCKERD_LOG" 2>&1 9>&- &
  echo $!
}

# The dockerd log written since the last "==== … slipway: dockerd" marker.
_dockerd_log_since_start() {
  awk '/^==== .* slipway: dockerd /{buf=""} {buf=buf $0 "\n"} END{printf "%s", buf}' "$SLIPWAY_DOCKERD_LOG" 2>/dev/null
}

_buildkit_probe() {
  local dir out rc=0
  dir=$(mktemp -d)
  printf 'slipway buildkit probe\n' >"$dir/probe.txt"
  printf 'FROM scratch\nCOPY probe.txt /probe.txt\n' >"$dir/Dockerfile"
  out=$(DOCKER_BUILDKIT=1 _docker build --network=none -q -t slipway-probe:buildkit "$dir" 2>&1) || rc=$?
  rm -rf "$dir"
  if ((rc != 0)); then
    printf '%s\n' "$out" >&2
    _fail "docker: BuildKit build (DOCKER_BUILDKIT=1 docker build --network=none) does not work"
    return 1
  fi
}

_ensure_docker() {
  command -v dockerd >/dev/null || { _fail "docker: dockerd not installed (run ensure_packages)"; return 1; }
  local what pid
  if _docker_answers; then
    what="already running"
  elif pid=$(_dockerd_pid); then
    # A dockerd is there but not answering yet (starting up, or shutting down): give it the same 60 s.
    _wait_for_docker 60 "$pid" || {
      tail -n 30 "$SLIPWAY_DOCKERD_LOG" >&2
      _fail "docker: dockerd (pid $pid) runs but $SLIPWAY_DOCKER_SOCK does not answer after 60 s"
      return 1
    }
    what="was starting (pid $pid)"
  else
    local driver=${SLIPWAY_DOCKER_STORAGE_DRIVER:-}
    pid=$(_start_dockerd "$driver")
    if ! _wait_for_docker 60 "$pid"; then
      # overlay2 can fail on some filesystems (overlay-on-overlay, some FUSE mounts): fall back to vfs.
      if [[ -z $driver ]] && ! _alive "$pid" \
        && _dockerd_log_since_start | grep -qiE 'level=(error|fatal).*(graphdriver|storage.driver|overlay)|error initializing graphdriver'; then
        _say "docker: default storage driver failed, retrying with --storage-driver=vfs"
        driver=vfs
        pid=$(_start_dockerd vfs)
      fi
      if ! _wait_for_docker 60 "$pid"; then
        _dockerd_log_since_start | grep -v '\[core\]' | tail -n 30 >&2
        kill "$pid" 2>/dev/null || true
        _fail "docker: dockerd exited or did not answer on $SLIPWAY_DOCKER_SOCK within 60 s (log $SLIPWAY_DOCKERD_LOG)"
        return 1
      fi
    fi
    what="started (pid $pid, log $SLIPWAY_DOCKERD_LOG)"
  fi
  _buildkit_probe || return 1
  local info
  info=$(_docker version --format '{{.Server.Version}}' 2>/dev/null)
  info="Engine $info, storage $(_docker info --format '{{.Driver}}' 2>/dev/null)"
  _say "docker: $what; $info, BuildKit ok"
}
ensure_docker() { _locked _ensure_docker; }

# ----------------------------------------------------------------------------------------------- registry

_registry_answers() { curl -fsS -m 3 "http://$SLIPWAY_REGISTRY_ADDR/v2/" >/dev/null 2>&1; }

_registry_config() {
  cat <<EOF
# Written by scripts/lib/services.sh (Slipway). Debian's /etc/docker/registry/config.yml is left alone.
version: 0.1
log:
  level: info
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: $SLIPWAY_REGISTRY_DIR
  delete:
    enabled: true
http:
  addr: $SLIPWAY_REGISTRY_ADDR
  secret: slipway-local-registry
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
EOF
}

_ensure_registry() {
  command -v docker-registry >/dev/null || { _fail "registry: docker-registry not installed (run ensure_packages)"; return 1; }
  local note=""
  mkdir -p "$(dirname "$SLIPWAY_REGISTRY_CONFIG")" "$SLIPWAY_REGISTRY_DIR"
  if ! cmp -s <(_registry_config) "$SLIPWAY_REGISTRY_CONFIG" 2>/dev/null; then
    _registry_config >"$SLIPWAY_REGISTRY_CONFIG"
    note=", wrote $SLIPWAY_REGISTRY_CONFIG"
    # A running registry keeps its old config until restarted; only restart the one we started.
    local old
    old=$(pgrep -f "docker-registry serve $SLIPWAY_REGISTRY_CONFIG" | tr '\n' ' ' || true)
    if [[ -n $old ]]; then
      # shellcheck disable=SC2086 # a list of pids
      kill $old 2>/dev/null || true
      sleep 1
      note+=" (restarted)"
    fi
  fi
  if _registry_answers; then
    _say "registry: already running on http://$SLIPWAY_REGISTRY_ADDR$note"
    return 0
  fi
  mkdir -p "$(dirname "$SLIPWAY_REGISTRY_LOG")"
  printf '\n==== %s slipway: docker-registry serve %s\n' "$(date -Is)" "$SLIPWAY_REGISTRY_CONFIG" >>"$SLIPWAY_REGISTRY_LOG"
  setsid nohup docker-registry serve "$SLIPWAY_REGISTRY_CONFIG" </dev/null >>"$SLIPWAY_REGISTRY_LOG" 2>&1 9>&- &
  local pid=$! start=$SECONDS
  until _registry_answers; do
    if ! _alive "$pid" || ((SECONDS - start >= 30)); then
      tail -n 20 "$SLIPWAY_REGISTRY_LOG" >&2
      kill "$pid" 2>/dev/null || true
      _fail "registry: http://$SLIPWAY_REGISTRY_ADDR/v2/ does not answer (log $SLIPWAY_REGISTRY_LOG)"
      return 1
    fi
    sleep 0.3
  done
  _say "registry: started on http://$SLIPWAY_REGISTRY_ADDR (pid $pid, log $SLIPWAY_REGISTRY_LOG)$note"
}
ensure_registry() { _locked _ensure_registry; }

# ------------------------------------------------------------------------------------------------- redis

_redis_answers() { [[ $(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null) == PONG ]]; }

_ensure_redis() {
  if _redis_answers; then
    _say "redis: already running on 127.0.0.1:6379"
    return 0
  fi
  command -v redis-server >/dev/null || { _fail "redis: redis-server not installed (run ensure_packages)"; return 1; }
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log 9>&- \
    || { _fail "redis: redis-server did not start (log /var/log/redis/ci.log)"; return 1; }
  local start=$SECONDS
  until _redis_answers; do
    ((SECONDS - start >= 20)) && { tail -n 20 /var/log/redis/ci.log >&2; _fail "redis: no PONG after 20 s"; return 1; }
    sleep 0.2
  done
  _say "redis: started on 127.0.0.1:6379 (log /var/log/redis/ci.log)"
}
ensure_redis() { _locked _ensure_redis; }

# -------------------------------------------------------------------------------------------- postgresql

_pg_answers() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
_psql() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p 5432 -U postgres "$@"; }

_ensure_postgres() {
  local what="already running"
  if ! _pg_answers; then
    what=""
    if ! compgen -G '/etc/postgresql/*/main' >/dev/null; then
      _apt_install postgresql || return 1
      what="installed postgresql, "
    fi
    local conf version started=""
    for conf in /etc/postgresql/*/main; do
      [[ -d $conf ]] || continue
      version=${conf#/etc/postgresql/}
      version=${version%/main}
      pg_ctlcluster --skip-systemctl-redirect "$version" main start 9>&- 2>/dev/null || true
      started+="$version/main "
    done
    local start=$SECONDS
    until _pg_answers; do
      ((SECONDS - start >= 30)) && { _fail "postgres: 127.0.0.1:5432 does not answer after starting cluster(s) ${started:-none}"; return 1; }
      sleep 0.3
    done
    what+="started cluster ${started% }"
  fi
  local exists
  exists=$(_psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$SLIPWAY_PG_DATABASE'") \
    || { _fail "postgres: cannot connect as postgres to 127.0.0.1:5432 (trust auth expected)"; return 1; }
  if [[ $exists != 1 ]]; then
    _psql -d postgres -c "CREATE DATABASE \"$SLIPWAY_PG_DATABASE\"" >/dev/null 2>&1 \
      || [[ $(_psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$SLIPWAY_PG_DATABASE'") == 1 ]] \
      || { _fail "postgres: could not create database $SLIPWAY_PG_DATABASE"; return 1; }
    _say "postgres: $what on 127.0.0.1:5432, created database $SLIPWAY_PG_DATABASE"
  else
    _say "postgres: $what on 127.0.0.1:5432, database $SLIPWAY_PG_DATABASE present"
  fi
}
ensure_postgres() { _locked _ensure_postgres; }

# ------------------------------------------------------------------------------------------- base images

# Manifest present in the local registry? (HEAD, accepting Docker v2 and OCI manifests and indexes.)
_registry_has() {
  local ref=$1 repo tag
  repo=${ref#"$SLIPWAY_REGISTRY_ADDR"/}
  tag=${repo##*:}
  repo=${repo%:*}
  curl -fsS -m 5 -o /dev/null -I \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    -H 'Accept: application/vnd.oci.image.index.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
    "http://$SLIPWAY_REGISTRY_ADDR/v2/$repo/manifests/$tag" 2>/dev/null
}

# Builds $SLIPWAY_BASE_IMAGE (FROM scratch + Debian's static busybox, applets linked into /bin) with no network,
# pushes it to the local registry and runs it once. Needs ensure_docker and ensure_registry first.
_ensure_base_images() {
  local ref=$SLIPWAY_BASE_IMAGE
  if _registry_has "$ref"; then
    _say "base images: $ref present"
    return 0
  fi
  _docker_answers || { _fail "base images: Docker Engine not running (run ensure_docker)"; return 1; }
  _registry_answers || { _fail "base images: registry not running (run ensure_registry)"; return 1; }
  if ! _pkg_installed busybox-static || [[ ! -x /bin/busybox ]]; then
    _fail "base images: the static /bin/busybox of busybox-static is missing (run ensure_packages)"
    return 1
  fi
  local dir out rc=0
  dir=$(mktemp -d)
  cp /bin/busybox "$dir/busybox"
  cat >"$dir/Dockerfile" <<'EOF'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV PATH=/bin
LABEL org.opencontainers.image.description="static busybox from Debian busybox-static; Slipway offline test base"
CMD ["/bin/sh"]
EOF
  # Engine-side BuildKit here has no bridge network: RUN steps need --network=none (or host).
  out=$(DOCKER_BUILDKIT=1 _docker build --network=none -q -t "$ref" "$dir" 2>&1) || rc=$?
  rm -rf "$dir"
  ((rc == 0)) || { printf '%s\n' "$out" >&2; _fail "base images: build of $ref"; return 1; }
  out=$(_docker push "$ref" 2>&1) || { printf '%s\n' "$out" >&2; _fail "base images: push of $ref"; return 1; }
  local digest
  digest=$(printf '%s\n' "$out" | grep -o 'sha256:[0-9a-f]\{64\}' | tail -n 1)
  out=$(_docker run --rm --network host "$ref" sh -c 'echo ok' 2>&1)
  [[ $out == ok ]] || { printf '%s\n' "$out" >&2; _fail "base images: docker run of $ref"; return 1; }
  _say "base images: built and pushed $ref@$digest"
}
ensure_base_images() { _locked _ensure_base_images; }

# ------------------------------------------------------------------------------------------------- node

# npm ci only when node_modules is missing or package-lock.json is newer than npm's record of the last install.
# Node.js 20 or newer: from Debian's packages when missing (trixie and newer ship 20; bookworm ships 18,
# where the message says what to do instead).
ensure_node() {
  local major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if ((major < 20)); then
    _apt_install nodejs npm || true
    major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  fi
  if ((major < 20)); then
    _fail "node: Slipway needs Node.js 20 or newer, found $(node -v 2>/dev/null || echo none); install Node 20 (e.g. Debian trixie's nodejs package) and run again"
    return 1
  fi
  _say "node: $(node -v)"
}

ensure_node_modules() {
  ensure_node || return 1
  if [[ -d node_modules && -f node_modules/.package-lock.json && ! package-lock.json -nt node_modules/.package-lock.json ]]; then
    _say "node_modules: up to date (node $(node -v), npm $(npm -v))"
    return 0
  fi
  local start=$SECONDS
  npm ci --no-audit --no-fund </dev/null || { _fail "node_modules: npm ci"; return 1; }
  _say "node_modules: npm ci done in $((SECONDS - start)) s"
}

# ---------------------------------------------------------------------------------------------- enforcer

# The micro-enforcer binary the inject stage puts into every image (enforcer/build/enforcer): make only
# rebuilds it when its sources changed.
ensure_enforcer() {
  make -s -C enforcer >/dev/null </dev/null || { _fail "enforcer: make -C enforcer"; return 1; }
  _say "enforcer: enforcer/build/enforcer ($(stat -c %s enforcer/build/enforcer) bytes)"
}
