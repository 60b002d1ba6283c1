#!/usr/bin/env bash
# Everything CI runs: the services of scripts/setup.sh plus PostgreSQL and the offline base image, then the
# test suites. Exits non-zero if any step or suite fails (all suites run even if one fails).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/services.sh
. scripts/lib/services.sh

start=$SECONDS
ensure_packages
ensure_docker
ensure_registry
ensure_redis
ensure_postgres
ensure_base_images
ensure_node_modules
_say "test: services ready in $((SECONDS - start)) s"

# Where the suites find the services (defaults; an already-set value wins).
export SLIPWAY_TEST_REDIS_URL=${SLIPWAY_TEST_REDIS_URL:-redis://127.0.0.1:6379}
export SLIPWAY_TEST_POSTGRES_URL=${SLIPWAY_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/$SLIPWAY_PG_DATABASE}
export SLIPWAY_TEST_REGISTRY=${SLIPWAY_TEST_REGISTRY:-http://$SLIPWAY_REGISTRY_ADDR}
export SLIPWAY_TEST_BASE_IMAGE=${SLIPWAY_TEST_BASE_IMAGE:-$SLIPWAY_BASE_IMAGE}
export SLIPWAY_TEST_DOCKER_SOCK=${SLIPWAY_TEST_DOCKER_SOCK:-$SLIPWAY_DOCKER_SOCK}

failed=()
_say "test: npm test"
npm test </dev/null || failed+=("npm test")
if [[ -f enforcer/Makefile ]]; then
  _say "test: make -C enforcer test"
  make -C enforcer test </dev/null || failed+=("make -C enforcer test")
fi

if ((${#failed[@]})); then
  _fail "test: ${failed[*]} ($((SECONDS - start)) s)"
  exit 1
fi
_say "test: all passed in $((SECONDS - start)) s"
