import type { FastifyInstance } from "fastify";
import { CLIENT_AUTH_METHODS } from "../../domain/client-credentials";
import { CLIENT_CREDENTIALS } from "../../domain/grant-types";
import { type AuthorizationServerMetadata, metadataRoute } from "../../schemas/oauth";

/**
 * RFC 8414 metadata, built once from API_AUTH_ISSUER. `scopes_supported` is left out on purpose: scopes
 * are granted per organization, so a global list would both mislead clients and disclose every
 * organization's scopes to anyone.
 */
export function authorizationServerMetadata(issuer: string): AuthorizationServerMetadata {
  const base = issuer.replace(/\/+$/, "");
  const methods = [...CLIENT_AUTH_METHODS];
  return {
    issuer,
    token_endpoint: `${base}/v1/auth/token`,
    introspection_endpoint: `${base}/v1/auth/introspect`,
    revocation_endpoint: `${base}/v1/auth/revoke`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    grant_types_supported: [CLIENT_CREDENTIALS],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: methods,
    introspection_endpoint_auth_methods_supported: methods,
    revocation_endpoint_auth_methods_supported: methods,
    service_documentation: `${base}/docs`,
  };
}

export async function wellKnownRoutes(app: FastifyInstance) {
  const metadata = authorizationServerMetadata(app.tokens.issuer);
  app.get("/.well-known/oauth-authorization-server", { schema: metadataRoute }, async (_request, reply) => {
    reply.header("cache-control", "public, max-age=300");
    return metadata;
  });
}
