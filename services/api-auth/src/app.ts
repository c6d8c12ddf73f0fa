import type { Db } from "@ipaas/db";
import { ACCESS_STREAM, type EventLink, ORGANIZATION_STREAM, OTP_DELIVERY_STREAM } from "@ipaas/events";
import { eventsPlugin } from "@ipaas/events/fastify";
import { SIGNING_ALGORITHMS, serverAddresses, serviceBasePlugin } from "@ipaas/service-kit";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import type { ApiConfig } from "./config";
import { USER_TOKEN_MAX_TTL_SECONDS } from "./domain/end-users/one-time-codes";
import { type OAuthLimits, oauthLimits } from "./domain/limits";
import { accessTokensPlugin } from "./plugins/access-tokens";
import { clientAuthenticatorPlugin } from "./plugins/client-authenticator";
import { clientCachePlugin } from "./plugins/client-cache";
import { codeDeliveryPlugin } from "./plugins/code-delivery";
import { housekeepingPlugin } from "./plugins/housekeeping";
import { oneTimeCodesPlugin } from "./plugins/one-time-codes";
import { organizationSyncPlugin } from "./plugins/organization-sync";
import { profilesPlugin } from "./plugins/profiles";
import { revocationsPlugin } from "./plugins/revocations";
import { oauthRoutes } from "./routes/oauth";
import { otpRoutes } from "./routes/otp";
import { userRoutes } from "./routes/users";
import { wellKnownRoutes } from "./routes/well-known";

export const SERVICE = "api-auth";

export interface AppOptions {
  config: ApiConfig;
  /** The embedded development mode's database and event bus (its runner's); otherwise the configured servers. */
  db?: Db;
  events?: EventLink;
  /** Overrides of the OAuth endpoints' brute-force and flood limits (see `oauthLimits`). */
  limits?: Partial<OAuthLimits>;
}

/** Builds api-auth: OAuth 2.0 client credentials for partner backends. Never listens. */
async function apiAuth(app: FastifyInstance, options: AppOptions) {
  const { config, limits: limitOverrides } = options;
  const limits = oauthLimits(config, limitOverrides);
  await app.register(serviceBasePlugin, {
    config,
    service: SERVICE,
    issuer: config.API_AUTH_ISSUER,
    db: options.db,
    // Partner access tokens, and end-user tokens, which an organization may let live up to a day.
    maxTokenTtlSeconds: Math.max(config.API_TOKEN_TTL_SECONDS, USER_TOKEN_MAX_TTL_SECONDS),
    // EdDSA by default; an organization may choose RS256 or ES256 for its tokens (`tokenSigningAlg`).
    signingAlgorithms: SIGNING_ALGORITHMS,
    openapi: {
      title: "IPaaS api-auth",
      description: "OAuth 2.0 client credentials for partner backends: token, introspection, revocation, metadata.",
    },
  });
  await app.register(eventsPlugin, {
    transport: options.events ?? serverAddresses(config).natsUrl,
    name: SERVICE,
    // api-auth writes events too (codes waiting for delivery): it relays the outbox beside dashboard-auth.
    streams: [ORGANIZATION_STREAM, OTP_DELIVERY_STREAM, ACCESS_STREAM],
    relay: true,
  });

  // Domain services, as decorators.
  await app.register(clientCachePlugin, config);
  await app.register(organizationSyncPlugin);
  await app.register(revocationsPlugin);
  await app.register(clientAuthenticatorPlugin, { limits });
  await app.register(accessTokensPlugin, {
    audience: config.API_TOKEN_AUDIENCE,
    ttlSeconds: config.API_TOKEN_TTL_SECONDS,
  });

  await app.register(oneTimeCodesPlugin);
  await app.register(codeDeliveryPlugin, { config });
  await app.register(profilesPlugin);
  await app.register(housekeepingPlugin);

  // Routes.
  await app.register(wellKnownRoutes);
  await app.register(oauthRoutes, { prefix: "/v1/auth", limits });
  await app.register(otpRoutes, { prefix: "/v1" });
  await app.register(userRoutes, { prefix: "/v1" });
}

// Not encapsulated: the server (and tests) see its decorators, such as `app.tokens`.
export default fp(apiAuth, { name: SERVICE });

// What the test world builds the service from.
export { type ApiConfig, apiConfig } from "./config";
export type { OAuthLimits } from "./domain/limits";
export type { SyncedEvent } from "./domain/organization-sync";
export { errorCatalogue } from "./errors";
