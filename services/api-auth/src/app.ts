import { eventsPlugin } from "@ipaas/events/fastify";
import type { Config } from "@ipaas/service-kit";
import { databasePlugin, platformPlugin, signingKeysPlugin } from "@ipaas/service-kit";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { type OAuthLimits, oauthLimits } from "./domain/limits";
import { accessTokensPlugin } from "./plugins/access-tokens";
import { clientAuthenticatorPlugin } from "./plugins/client-authenticator";
import { clientCachePlugin } from "./plugins/client-cache";
import { oauthRoutes } from "./routes/oauth";
import { wellKnownRoutes } from "./routes/well-known";

export const SERVICE = "api-auth";

export interface AppOptions {
  config: Config;
  /** Overrides of the OAuth endpoints' brute-force and flood limits (see `oauthLimits`). */
  limits?: Partial<OAuthLimits>;
}

/** Builds api-auth: OAuth 2.0 client credentials for partners, and end-user one-time-code sign-in. Never listens. */
async function apiAuth(app: FastifyInstance, { config, limits: limitOverrides }: AppOptions) {
  const limits = oauthLimits(config, limitOverrides);
  await app.register(platformPlugin, {
    config,
    service: SERVICE,
    openapi: {
      title: "IPaaS api-auth",
      description: "OAuth 2.0 client credentials for partner backends, and one-time-code sign-in for end users.",
      version: "1.0.0",
      serverUrl: config.API_AUTH_ISSUER,
    },
  });
  await app.register(databasePlugin, {
    url: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    migrateOnStart: config.MIGRATE_ON_START,
  });
  await app.register(eventsPlugin, { servers: config.NATS_URL, name: SERVICE, relay: false });
  await app.register(signingKeysPlugin, {
    service: SERVICE,
    issuer: config.API_AUTH_ISSUER,
    rotationDays: config.SIGNING_KEY_ROTATION_DAYS,
    publishLeadSeconds: config.SIGNING_KEY_PUBLISH_LEAD_SECONDS,
    maxTokenTtlSeconds: config.API_TOKEN_TTL_SECONDS,
  });

  // Domain services, as decorators.
  await app.register(clientCachePlugin);
  await app.register(clientAuthenticatorPlugin, { limits });
  await app.register(accessTokensPlugin);

  // Routes.
  await app.register(wellKnownRoutes);
  await app.register(oauthRoutes, { prefix: "/v1/auth", limits });
}

// Not encapsulated: the server (and tests) see its decorators, such as `app.tokens`.
export default fp(apiAuth, { name: SERVICE });
