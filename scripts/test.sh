#!/usr/bin/env bash
# Everything CI runs: the services of scripts/setup.sh plus PostgreSQL and the offline base image, then the
# test suites. Exits non-zero if any step or suite fails (all suites run even if one fails).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/services.sh
. scripts/lib/services.sh
# shellcheck source=scripts/lib/kube.sh
. scripts/lib/kube.sh

start=$SECONDS
ensure_packages
ensure_docker
ensure_registry
ensure_redis
ensure_postgres
ensure_base_images
ensure_node_modules
ensure_enforcer
ensure_kube
_say "test: services ready in $((SECONDS - start)) s"

# Where the suites find the services (defaults; an already-set value wins).
export SLIPWAY_TEST_REDIS_URL=${SLIPWAY_TEST_REDIS_URL:-redis://127.0.0.1:6379}
export SLIPWAY_TEST_POSTGRES_URL=${SLIPWAY_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/$SLIPWAY_PG_DATABASE}
export SLIPWAY_TEST_REGISTRY=${SLIPWAY_TEST_REGISTRY:-http://$SLIPWAY_REGISTRY_ADDR}
export SLIPWAY_TEST_BASE_IMAGE=${SLIPWAY_TEST_BASE_IMAGE:-$SLIPWAY_BASE_IMAGE}
export SLIPWAY_TEST_DOCKER_SOCK=${SLIPWAY_TEST_DOCKER_SOCK:-$SLIPWAY_DOCKER_SOCK}

failed=()
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
_say "test: npm test"
SLIPWAY_VITEST_JSON="$results/vitest.json" npm test </dev/null || failed+=("npm test")
if [[ -f enforcer/Makefile ]]; then
  _say "test: make -C enforcer test"
  set -o pipefail
  make -C enforcer test </dev/null | tee "$results/enforcer.txt" || failed+=("make -C enforcer test")
fi

# One closing line over every suite (vitest's JSON report plus the enforcer's own "N passed, M failed").
node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0;
  try {
    const v = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    passed += v.numPassedTests; failed += v.numFailedTests; skipped += v.numPendingTests + v.numTodoTests;
  } catch { failed += 1; }
  try {
    const m = /(\d+) passed, (\d+) failed/.exec(fs.readFileSync(process.argv[2], "utf8"));
    if (m) { passed += Number(m[1]); failed += Number(m[2]); }
  } catch {}
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
' "$results/vitest.json" "$results/enforcer.txt"

if ((${#failed[@]})); then
  _fail "test: ${failed[*]} ($((SECONDS - start)) s)"
  exit 1
fi
_say "test: all passed in $((SECONDS - start)) s"
