# syntax=docker/dockerfile:1
#
# One image for both services and the migrator. The build stage installs the workspace (compiling native
# addons such as argon2 and generating the Prisma client) and runs `pnpm build`, which bundles each service
# into plain JavaScript, services/<service>/dist/server.mjs (scripts/build.mjs: the internal packages are
# inside, the third-party ones are loaded from node_modules). The runtime stage copies the result without
# the compilers, and the services run without a TypeScript loader.
#
# The image has no default service; choose one with the container's command (see docker-compose.yml):
#   dashboard-auth:  working dir /app/services/dashboard-auth, command: node <flags> dist/server.mjs
#   api-auth:        working dir /app/services/api-auth,       command: node <flags> dist/server.mjs
#   migrations:      command: pnpm db:migrate
# with <flags> = --no-wasm-tier-up --no-wasm-dynamic-tiering --max-semi-space-size=8, which hold memory
# down (docs/benchmarks.md, "Memory and the production bundle"). That is each service's `start` script
# (`pnpm --filter <service> start`), minus the pnpm and `sh -c` processes in between. Under pnpm, SIGTERM
# stops the shell and pnpm at once and never reaches the server, which is then killed with its in-flight
# requests instead of draining them.

ARG NODE_IMAGE=node:20-bookworm-slim

# ─────────────────────────────── base ───────────────────────────────
FROM ${NODE_IMAGE} AS base
# The version pinned by package.json's packageManager field. Installed with npm rather than
# `corepack enable` + `corepack prepare`: Node 20's bundled corepack checks pnpm's registry signature
# against keys built into it and refuses the download when they do not match ("No compatible signature
# found in package metadata"); npm checks the tarball against the registry's integrity hash.
ARG PNPM_VERSION=10.34.9
RUN npm install --global "pnpm@${PNPM_VERSION}" \
 && npm cache clean --force \
 && pnpm --version
WORKDIR /app

# ─────────────────────────────── build ──────────────────────────────
FROM base AS build
# Toolchain for node-gyp: argon2 is compiled from source (.npmrc: build-from-source=true).
RUN apt-get update \
 && apt-get install --yes --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# node-gyp builds against the headers that ship with this Node instead of downloading them; CI=true keeps
# pnpm non-interactive.
ENV npm_config_nodedir=/usr/local \
    CI=true

# Manifests first, so the dependency layer is rebuilt only when they change. `pnpm install` runs
# packages/db's postinstall (scripts/generate.mjs → prisma generate), which needs the scripts and prisma/.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
COPY packages/db/package.json packages/db/
COPY packages/db/scripts/ packages/db/scripts/
COPY packages/domain/package.json packages/domain/
COPY packages/events/package.json packages/events/
COPY packages/service-kit/package.json packages/service-kit/
COPY packages/sdk/package.json packages/sdk/
COPY packages/testing/package.json packages/testing/
COPY services/dashboard-auth/package.json services/dashboard-auth/
COPY services/api-auth/package.json services/api-auth/
COPY tools/dev/package.json tools/dev/
COPY prisma/ prisma/
# Development dependencies stay: the bundler (esbuild) is one, and `pnpm db:migrate` and the admin command
# still run TypeScript through tsx.
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --store-dir /pnpm/store

# The source. .dockerignore keeps out every node_modules, dist and packages/db/src/generated, so neither the
# installed dependencies nor the generated Prisma client above is overwritten by the host's.
COPY . .
# services/<service>/dist: the bundle, its source map, and links to the packages it loads at run time.
RUN pnpm build

# ────────────────────────────── runtime ─────────────────────────────
FROM base AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0
# Owned by root and read-only to the service user: the process cannot change its own code.
COPY --from=build /app /app
USER node
EXPOSE 7005 7006
# No default service (see the top of this file).
CMD ["node", "-e", "console.error('Choose what to run: see the Dockerfile header or docker-compose.yml'); process.exit(64)"]
