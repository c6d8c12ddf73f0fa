#!/usr/bin/env bash
# Runs the whole test suite against real Postgres, NATS and Redis servers (each run makes its own database):
# those at the configured addresses, else servers started for it (see scripts/servers.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --servers
exec pnpm test "$@"
