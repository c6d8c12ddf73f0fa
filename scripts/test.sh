#!/usr/bin/env bash
# Runs the whole test suite against the real local Postgres and NATS (each run makes its own database).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec pnpm test "$@"
