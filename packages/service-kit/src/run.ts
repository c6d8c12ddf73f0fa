import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from "fastify";
import { type BaseConfig, ConfigError } from "./config";
import { serverOptions } from "./server-options";

export interface RunOptions<C extends BaseConfig> {
  service: string;
  /** Reads and validates the service's configuration (its `defineConfig(...).load`). */
  loadConfig: () => C;
  port: (config: C) => number;
  app: FastifyPluginAsync<{ config: C }>;
}

/**
 * The only place with side effects: reads config (refusing to start when it is invalid, or when it names
 * no servers: the embedded mode is `pnpm dev`'s), builds the app, listens, and on SIGTERM/SIGINT stops
 * accepting, drains in-flight requests and closes its resources.
 */
export async function runService<C extends BaseConfig>(options: RunOptions<C>): Promise<void> {
  loadDotEnv();
  const config = loadConfigOrExit(options.service, options.loadConfig);
  if (config.infrastructure.kind === "embedded") {
    process.stderr.write(
      `${options.service} refused to start: DATABASE_URL and NATS_URL are not set. Set both, or run ` +
        "`pnpm dev` (both services in one process on the embedded development database and event bus)\n",
    );
    process.exit(1);
  }
  await serveAll([
    {
      service: options.service,
      config,
      port: options.port(config),
      register: (app) => app.register(options.app, { config }),
    },
  ]);
}

/** Reads a service's configuration, or says why it is refused and exits. */
export function loadConfigOrExit<C extends BaseConfig>(service: string, load: () => C): C {
  try {
    return load();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${service} refused to start: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

/** One service of a process: its configuration, its port and how its plugin is registered on an app. */
export interface ServiceToRun {
  service: string;
  config: BaseConfig;
  port: number;
  register(app: FastifyInstance): PromiseLike<unknown>;
}

/**
 * Builds each service's app and listens; on SIGTERM/SIGINT stops accepting, drains every app's in-flight
 * requests, closes their resources, then runs `afterClose` (what the services shared) and exits. `close`
 * does the same without exiting.
 */
export async function serveAll(
  services: ServiceToRun[],
  options: { afterClose?: () => Promise<void> } = {},
): Promise<{ apps: FastifyInstance[]; close(): Promise<void> }> {
  const apps = services.map(({ config, service }) => Fastify(serverOptions(config, service)));
  const graceMs = Math.max(...services.map((s) => s.config.SHUTDOWN_GRACE_MS));
  const [first] = apps;
  let closed: Promise<void> | undefined;
  const closeAll = () => {
    closed ??= (async () => {
      await Promise.all(apps.map((app) => app.close()));
      await options.afterClose?.();
    })();
    return closed;
  };
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing || !first) return;
    closing = true;
    first.log.info({ signal }, "shutting down: draining in-flight requests");
    const force = setTimeout(() => {
      first.log.error("shutdown grace period exceeded; exiting");
      process.exit(1);
    }, graceMs);
    force.unref();
    try {
      await closeAll();
      process.exit(0);
    } catch (error) {
      first.log.error({ err: error }, "error while shutting down");
      process.exit(1);
    }
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));

  for (const [index, unit] of services.entries()) {
    const app = apps[index] as FastifyInstance;
    // Before anything is encrypted or signed, so the warning precedes the first use of the key.
    if (unit.config.usingDevelopmentMasterKey) warnDevelopmentMasterKey(app.log, unit.config);
    try {
      await unit.register(app);
      await app.listen({ host: unit.config.HOST, port: unit.port });
    } catch (error) {
      app.log.fatal({ err: error }, "could not start");
      await closeAll().catch(() => undefined);
      process.exit(1);
    }
  }
  return { apps, close: closeAll };
}

/**
 * Says, loudly, that secrets are encrypted and tokens signed under a key anyone can read. Also on stderr
 * when LOG_LEVEL hides warnings, so that no log setting can silence it.
 */
function warnDevelopmentMasterKey(log: FastifyBaseLogger, config: BaseConfig): void {
  const message =
    `MASTER_KEY is not set: using the PUBLIC development master key (NODE_ENV=${config.NODE_ENV}). ` +
    "Anyone can decrypt the signing keys, TOTP secrets and personal data it protects and forge tokens. " +
    "Never run this outside a laptop or a test; set MASTER_KEY (openssl rand -base64 32) anywhere else.";
  log.warn({ alert: "development_master_key", nodeEnv: config.NODE_ENV }, message);
  if (["fatal", "error", "silent"].includes(config.LOG_LEVEL)) process.stderr.write(`WARNING: ${message}\n`);
}

/**
 * Reads the nearest `.env` (service folder or repository root) without overriding the real environment.
 * `ENV_FILE` names another file, or `none` to read none.
 */
export function loadDotEnv(): void {
  const named = process.env.ENV_FILE;
  if (named === "none") return;
  if (named) {
    process.loadEnvFile(named);
    return;
  }
  let dir = process.cwd();
  for (let depth = 0; depth < 3; depth++) {
    const file = join(dir, ".env");
    if (existsSync(file)) {
      process.loadEnvFile(file);
      return;
    }
    dir = dirname(dir);
  }
}
