#!/usr/bin/env bash
# Prepares a machine to run the services or the tests, idempotently:
# pnpm, the local Postgres, NATS (JetStream) and Redis if they are down, dependencies (argon2 built from source),
# and the development database with every migration applied.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=$(node -p "require('./package.json').packageManager.split('@')[1]")
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm $PNPM_VERSION"
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null
fi

have_port() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! have_port 5432; then
  echo "setup: starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
  else
    echo "setup: PostgreSQL is not listening on 127.0.0.1:5432 and pg_ctlcluster is not installed" >&2
    exit 1
  fi
fi

if ! have_port 4222; then
  echo "setup: starting NATS with JetStream"
  NATS_BIN=$(command -v nats-server || echo /usr/sbin/nats-server)
  if [ -x "$NATS_BIN" ] && command -v start-stop-daemon >/dev/null 2>&1; then
    mkdir -p /var/lib/nats-server
    start-stop-daemon --start --oknodo --background --exec "$NATS_BIN" -- \
      -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  else
    echo "setup: NATS is not listening on 127.0.0.1:4222 and nats-server is not installed" >&2
    exit 1
  fi
fi

# Redis: where several instances count their per-address limits together (REDIS_URL); the tests use it.
if ! have_port 6379; then
  echo "setup: starting Redis"
  if command -v redis-server >/dev/null 2>&1; then
    mkdir -p /var/lib/redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --dir /var/lib/redis
  else
    echo "setup: Redis is not listening on 127.0.0.1:6379 and redis-server is not installed" >&2
    exit 1
  fi
fi

for _ in $(seq 1 50); do
  have_port 5432 && have_port 4222 && have_port 6379 && break
  sleep 0.2
done
have_port 5432 || { echo "setup: PostgreSQL did not come up" >&2; exit 1; }
have_port 4222 || { echo "setup: NATS did not come up" >&2; exit 1; }
have_port 6379 || { echo "setup: Redis did not come up" >&2; exit 1; }

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
