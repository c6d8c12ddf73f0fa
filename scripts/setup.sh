#!/usr/bin/env bash
# Prepares a checkout, idempotently: pnpm (the pinned version) and the dependencies, with argon2 compiled
# from source. With --servers (the tests, CI) it then makes sure PostgreSQL, NATS (JetStream) and Redis
# answer at the tests' addresses (scripts/servers.mjs). `pnpm dev` needs no servers unless DATABASE_URL and
# NATS_URL are set, and then starts the missing ones itself.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=$(node -p "require('./package.json').packageManager.split('@')[1]")
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm $PNPM_VERSION"
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null
fi

# argon2's bundled binary crashes on some hosts: always compile it (see .npmrc and pnpm-workspace.yaml).
export npm_config_build_from_source=true
if [ -n "${CI:-}" ]; then
  pnpm install --frozen-lockfile
else
  pnpm install
fi

# Fail here, not in a test, when the native argon2 build is missing or broken.
(cd services/dashboard-auth && node -e "require('argon2').hash('check').then(() => process.exit(0), (e) => { console.error('setup: argon2 does not work:', e.message); process.exit(1); })")

if [ "${1:-}" = "--servers" ]; then
  node scripts/servers.mjs --for-tests
fi
