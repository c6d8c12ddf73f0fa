import type { Config } from "@ipaas/service-kit";
import { databasePlugin, platformPlugin, signingKeysPlugin } from "@ipaas/service-kit";
import type { FastifyInstance } from "fastify";

export const SERVICE = "dashboard-auth";

export interface AppOptions {
  config: Config;
}

/** Builds dashboard-auth: registration, login with TOTP, users, roles, modules and organizations. Never listens. */
export default async function dashboardAuth(app: FastifyInstance, { config }: AppOptions) {
  await app.register(platformPlugin, {
    config,
    service: SERVICE,
    openapi: {
      title: "IPaaS dashboard-auth",
      description: "Registration and login (with mandatory TOTP) for banks, organizations and the platform owner.",
      version: "1.0.0",
      serverUrl: config.DASHBOARD_AUTH_ISSUER,
    },
  });
  await app.register(databasePlugin, {
    url: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    migrateOnStart: config.MIGRATE_ON_START,
  });
  await app.register(signingKeysPlugin, {
    service: SERVICE,
    issuer: config.DASHBOARD_AUTH_ISSUER,
    rotationDays: config.SIGNING_KEY_ROTATION_DAYS,
    publishLeadSeconds: config.SIGNING_KEY_PUBLISH_LEAD_SECONDS,
    maxTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
  });
}
