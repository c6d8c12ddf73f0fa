import { eventsPlugin } from "@ipaas/events/fastify";
import type { Config } from "@ipaas/service-kit";
import { databasePlugin, platformPlugin, signingKeysPlugin } from "@ipaas/service-kit";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { accessPlugin } from "./plugins/access";
import { identityPlugin } from "./plugins/identity";
import { mailerPlugin } from "./plugins/mailer";
import { managementPlugin } from "./plugins/management";
import { passwordsPlugin } from "./plugins/passwords";
import { rateLimitPlugin } from "./plugins/rate-limit";
import routes from "./routes/index";

export const SERVICE = "dashboard-auth";

export interface AppOptions {
  config: Config;
}

/** Builds dashboard-auth: registration, login with TOTP, users, roles, modules and organizations. Never listens. */
async function dashboardAuth(app: FastifyInstance, { config }: AppOptions) {
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
  await app.register(eventsPlugin, { servers: config.NATS_URL, name: SERVICE, relay: true });
  await app.register(signingKeysPlugin, {
    service: SERVICE,
    issuer: config.DASHBOARD_AUTH_ISSUER,
    rotationDays: config.SIGNING_KEY_ROTATION_DAYS,
    publishLeadSeconds: config.SIGNING_KEY_PUBLISH_LEAD_SECONDS,
    maxTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
  });
  await app.register(rateLimitPlugin);
  await app.register(passwordsPlugin);
  await app.register(mailerPlugin);
  await app.register(identityPlugin);
  await app.register(accessPlugin);
  await app.register(managementPlugin);
  await app.register(routes, { prefix: "/v1" });
}

// Not encapsulated: the server (and tests) see its decorators, such as `app.tokens`.
export default fp(dashboardAuth, { name: SERVICE });
