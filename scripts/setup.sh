#!/usr/bin/env bash
# Prepares a machine to run the services or the tests, idempotently:
# pnpm, Postgres, NATS (JetStream) and Redis where they are configured (started when they do not answer),
# dependencies (argon2 built from source), and the development database with every migration applied.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=$(node -p "require('./package.json').packageManager.split('@')[1]")
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm $PNPM_VERSION"
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null
fi

# PostgreSQL, NATS with JetStream and Redis at the configured addresses: the ones that do not answer are started
# (installed first on Debian or Ubuntu as root); see scripts/servers.mjs.
node scripts/servers.mjs

# argon2's bundled binary crashes on some hosts: always compile it (see .npmrc and pnpm-workspace.yaml).
export npm_config_build_from_source=true
if [ -n "${CI:-}" ]; then
  pnpm install --frozen-lockfile
else
  pnpm install
fi

# Fail here, not in a test, when the native argon2 build is missing or broken.
(cd services/dashboard-auth && node -e "require('argon2').hash('check').then(() => process.exit(0), (e) => { console.error('setup: argon2 does not work:', e.message); process.exit(1); })")

# The development database (tests make their own, fresh per run).
DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/ipaas}
node -e '
  const url = new URL(process.argv[1]); const name = url.pathname.slice(1); url.pathname = "/postgres";
  const pg = require("./packages/db/node_modules/pg");
  const c = new pg.Client({ connectionString: url.toString() });
  c.connect()
    .then(() => c.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]))
    .then((r) => (r.rowCount ? null : c.query(`CREATE DATABASE "${name.replaceAll("\"", "")}"`)))
    .then(() => c.end())
    .catch((e) => { console.error("setup: cannot create the database:", e.message); process.exit(1); });
' "$DATABASE_URL"
DATABASE_URL=$DATABASE_URL pnpm db:migrate
