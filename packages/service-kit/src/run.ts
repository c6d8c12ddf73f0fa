import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import Fastify, { type FastifyBaseLogger, type FastifyPluginAsync } from "fastify";
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
 * The only place with side effects: reads config (refusing to start when it is invalid), builds the app,
 * listens, and on SIGTERM/SIGINT stops accepting, drains in-flight requests and closes its resources.
 */
export async function runService<C extends BaseConfig>(options: RunOptions<C>): Promise<void> {
  loadDotEnv();
  let config: C;
  try {
    config = options.loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${options.service} refused to start: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }

  const app = Fastify(serverOptions(config, options.service));
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, "shutting down: draining in-flight requests");
    const force = setTimeout(() => {
      app.log.error("shutdown grace period exceeded; exiting");
      process.exit(1);
    }, config.SHUTDOWN_GRACE_MS);
    force.unref();
    try {
      await app.close();
      process.exit(0);
    } catch (error) {
      app.log.error({ err: error }, "error while shutting down");
      process.exit(1);
    }
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));

  // Before anything is encrypted or signed, so the warning precedes the first use of the key.
  if (config.usingDevelopmentMasterKey) warnDevelopmentMasterKey(app.log, config);
  try {
    await app.register(options.app, { config });
    await app.listen({ host: config.HOST, port: options.port(config) });
  } catch (error) {
    app.log.fatal({ err: error }, "could not start");
    await app.close().catch(() => undefined);
    process.exit(1);
  }
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
