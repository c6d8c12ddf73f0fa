import type { Db } from "@ipaas/db";
import { ACCESS_STREAM, type EventLink, ORGANIZATION_STREAM, OTP_DELIVERY_STREAM } from "@ipaas/events";
import { eventsPlugin } from "@ipaas/events/fastify";
import { serverAddresses, serviceBasePlugin } from "@ipaas/service-kit";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { accessPlugin } from "./access/plugin";
import type { DashboardConfig } from "./config";
import { passwordsPlugin } from "./features/passwords/plugin";
import { SETUP_TOKEN } from "./features/sign-in/login";
import { identityPlugin } from "./plugins/identity";
import { mailerPlugin } from "./plugins/mailer";
import { managementPlugin } from "./plugins/management";
import { rateLimitPlugin } from "./plugins/rate-limit";
import { sessionViewPlugin } from "./plugins/session-view";
import routes from "./routes";

export const SERVICE = "dashboard-auth";

export interface AppOptions {
  config: DashboardConfig;
  /** The embedded development mode's database and event bus (its runner's); otherwise the configured servers. */
  db?: Db;
  events?: EventLink;
}

/** Builds dashboard-auth: registration, login with TOTP, users, roles, modules and organizations. Never listens. */
async function dashboardAuth(app: FastifyInstance, options: AppOptions) {
  const { config } = options;
  await app.register(serviceBasePlugin, {
    config,
    service: SERVICE,
    issuer: config.DASHBOARD_AUTH_ISSUER,
    db: options.db,
    // Access tokens, and the two-factor set-up token that may outlive a short access-token setting.
    maxTokenTtlSeconds: Math.max(config.ACCESS_TOKEN_TTL_SECONDS, SETUP_TOKEN.ttlSeconds),
    openapi: {
      title: "IPaaS dashboard-auth",
      description: "Registration and login (with mandatory TOTP) for banks, organizations and the platform owner.",
    },
  });
  await app.register(eventsPlugin, {
    transport: options.events ?? serverAddresses(config).natsUrl,
    name: SERVICE,
    // Its relay may publish any service's outbox rows, so it makes sure every stream exists.
    streams: [ORGANIZATION_STREAM, OTP_DELIVERY_STREAM, ACCESS_STREAM],
    relay: true,
  });
  await app.register(rateLimitPlugin);
  await app.register(passwordsPlugin, { config });
  await app.register(mailerPlugin);
  await app.register(sessionViewPlugin, { config });
  await app.register(identityPlugin, { config });
  await app.register(accessPlugin);
  await app.register(managementPlugin, { config });
  await app.register(routes, { prefix: "/v1" });
}

// Not encapsulated: the server (and tests) see its decorators, such as `app.tokens`.
export default fp(dashboardAuth, { name: SERVICE });

// What the test world builds the service, and its platform owner, from.
export { type DashboardConfig, dashboardConfig } from "./config";
export { BootstrapError, bootstrapOwner, setupLink } from "./features/banks/bootstrap";
export { createPasswords, passwordPepper } from "./features/passwords/passwords";
