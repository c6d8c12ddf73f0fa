#!/usr/bin/env bash
# Runs both services (dashboard-auth on 7005, api-auth on 7006) with NODE_ENV=development: on the embedded
# database and event bus, or on the servers DATABASE_URL and NATS_URL name (see tools/dev/src/dev.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec pnpm dev
