import type { Db } from "@ipaas/db";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { type BaseConfig as Config, serverAddresses } from "../config";
import { signingKeysPlugin } from "../keys/plugin";
import type { SigningAlgorithm } from "../keys/signing-keys";
import { type DatabaseOptions, databasePlugin } from "./database";
import { platformPlugin } from "./platform";
import { sharedLimitsPlugin } from "./shared-limits";

export interface ServiceBaseOptions {
  config: Config;
  service: string;
  /** The public base URL: the OpenAPI server and the `iss` of the service's tokens. */
  issuer: string;
  /** The longest-lived token the service signs (a retired key stays published that long). */
  maxTokenTtlSeconds: number;
  /** The algorithms the service signs with (EdDSA unless set). */
  signingAlgorithms?: readonly SigningAlgorithm[];
  openapi: { title: string; description: string };
  /** The embedded mode's database, opened and migrated by its runner; otherwise the one at DATABASE_URL. */
  db?: Db | undefined;
}

/** What every service stands on: the platform plugins, the database and the signing keys. */
export const serviceBasePlugin = fp(
  async (app: FastifyInstance, options: ServiceBaseOptions) => {
    const { config, service, issuer } = options;
    await app.register(platformPlugin, {
      config,
      service,
      openapi: { ...options.openapi, version: "1.0.0", serverUrl: issuer },
    });
    await app.register(sharedLimitsPlugin, { url: config.REDIS_URL, service });
    await app.register(databasePlugin, databaseOf(config, options.db));
    await app.register(signingKeysPlugin, {
      service,
      issuer,
      rotationDays: config.SIGNING_KEY_ROTATION_DAYS,
      publishLeadSeconds: config.SIGNING_KEY_PUBLISH_LEAD_SECONDS,
      maxTokenTtlSeconds: options.maxTokenTtlSeconds,
      ...(options.signingAlgorithms ? { algorithms: options.signingAlgorithms } : {}),
    });
  },
  { name: "service-base" },
);

function databaseOf(config: Config, db: Db | undefined): DatabaseOptions {
  if (db) return { db };
  return {
    url: serverAddresses(config).databaseUrl,
    poolSize: config.DATABASE_POOL_SIZE,
    migrateOnStart: config.MIGRATE_ON_START,
  };
}
