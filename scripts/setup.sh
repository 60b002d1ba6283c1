#!/usr/bin/env bash
# Prepare this machine for Slipway: packages, Docker Engine (+ BuildKit), local registry, Redis, node_modules,
# build. Idempotent; a second run only checks. Does not start Slipway itself (scripts/up.sh does).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/services.sh
. scripts/lib/services.sh

start=$SECONDS
ensure_packages
ensure_docker
ensure_registry
ensure_redis
ensure_base_images
ensure_node_modules
ensure_enforcer
npm run build --silent </dev/null || _fail "npm run build"
_say "setup: done in $((SECONDS - start)) s"
