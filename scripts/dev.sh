#!/usr/bin/env bash
# Runs both services (dashboard-auth on 7005, api-auth on 7006) against the local Postgres and NATS.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Without MASTER_KEY the services start only when NODE_ENV says development (or test) explicitly: a
# deployment that forgot NODE_ENV must not run on the public development key. This script is for a laptop.
export NODE_ENV="${NODE_ENV:-development}"
exec pnpm dev
