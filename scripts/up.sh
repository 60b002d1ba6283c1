#!/usr/bin/env bash
# The first of the README's two commands: set this machine up (idempotent) and run Slipway with its
# embedded defaults (`slipway up`: server, build workers, SQLite in .slipway/, Redis, Docker's BuildKit,
# the registry on 127.0.0.1:5000). Extra arguments go to `slipway up` (e.g. --config slipway.yaml).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec bin/slipway up "$@"
