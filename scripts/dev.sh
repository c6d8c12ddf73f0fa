#!/usr/bin/env bash
# Runs both services (dashboard-auth on 7005, api-auth on 7006) against the local Postgres and NATS.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec pnpm dev
