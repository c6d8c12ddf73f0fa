import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import type { OAuthLimits } from "../../domain/limits";
import { introspectionRoute, revocationRoute, tokenRoute } from "../../schemas/oauth";
import { introspectToken } from "./introspect";
import { oauthProtocol, postOnly } from "./protocol";
import { revokeToken } from "./revoke";
import { issueToken } from "./token";

export interface OAuthRoutesOptions {
  limits: OAuthLimits;
}

/** Requests per minute from one address on one endpoint. */
function perAddress(max: number) {
  return { rateLimit: { max, timeWindow: 60_000 } };
}

/** The OAuth 2.0 endpoints for partner backends, under /v1/auth. Errors answer in RFC 6749 §5.2 form. */
export async function oauthRoutes(fastify: FastifyInstance, { limits }: OAuthRoutesOptions) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  await app.register(oauthProtocol);

  app.post("/token", { schema: tokenRoute, config: perAddress(limits.tokenRequestsPerMinute) }, issueToken);
  app.post(
    "/introspect",
    { schema: introspectionRoute, config: perAddress(limits.introspectionRequestsPerMinute) },
    introspectToken,
  );
  app.post("/revoke", { schema: revocationRoute, config: perAddress(limits.revocationRequestsPerMinute) }, revokeToken);

  for (const url of ["/token", "/introspect", "/revoke"]) postOnly(app, url);
}
