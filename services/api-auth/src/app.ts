import { ORGANIZATION_STREAM } from "@ipaas/events";
import { eventsPlugin } from "@ipaas/events/fastify";
import { serviceBasePlugin } from "@ipaas/service-kit";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import type { ApiConfig } from "./config";
import { type OAuthLimits, oauthLimits } from "./domain/limits";
import { accessTokensPlugin } from "./plugins/access-tokens";
import { clientAuthenticatorPlugin } from "./plugins/client-authenticator";
import { clientCachePlugin } from "./plugins/client-cache";
import { organizationSyncPlugin } from "./plugins/organization-sync";
import { oauthRoutes } from "./routes/oauth";
import { wellKnownRoutes } from "./routes/well-known";

export const SERVICE = "api-auth";

export interface AppOptions {
  config: ApiConfig;
  /** Overrides of the OAuth endpoints' brute-force and flood limits (see `oauthLimits`). */
  limits?: Partial<OAuthLimits>;
}

/** Builds api-auth: OAuth 2.0 client credentials for partner backends. Never listens. */
async function apiAuth(app: FastifyInstance, { config, limits: limitOverrides }: AppOptions) {
  const limits = oauthLimits(config, limitOverrides);
  await app.register(serviceBasePlugin, {
    config,
    service: SERVICE,
    issuer: config.API_AUTH_ISSUER,
    maxTokenTtlSeconds: config.API_TOKEN_TTL_SECONDS,
    openapi: {
      title: "IPaaS api-auth",
      description: "OAuth 2.0 client credentials for partner backends: token, introspection, revocation, metadata.",
    },
  });
  await app.register(eventsPlugin, {
    servers: config.NATS_URL,
    name: SERVICE,
    streams: [ORGANIZATION_STREAM],
    relay: false,
  });

  // Domain services, as decorators.
  await app.register(clientCachePlugin, config);
  await app.register(organizationSyncPlugin);
  await app.register(clientAuthenticatorPlugin, { limits });
  await app.register(accessTokensPlugin, {
    audience: config.API_TOKEN_AUDIENCE,
    ttlSeconds: config.API_TOKEN_TTL_SECONDS,
  });

  // Routes.
  await app.register(wellKnownRoutes);
  await app.register(oauthRoutes, { prefix: "/v1/auth", limits });
}

// Not encapsulated: the server (and tests) see its decorators, such as `app.tokens`.
export default fp(apiAuth, { name: SERVICE });

// What the test world builds the service from.
export { type ApiConfig, apiConfig } from "./config";
export type { OAuthLimits } from "./domain/limits";
export type { SyncedEvent } from "./domain/organization-sync";
