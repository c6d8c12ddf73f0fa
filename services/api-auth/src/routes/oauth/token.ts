import { requestOrigin } from "@ipaas/domain";
import type { FastifyInstance } from "fastify";
import { presentedClient } from "../../domain/client-credentials";
import { grantSupported } from "../../domain/grant-types";
import { OAuthError } from "../../domain/oauth-errors";
import { grantScopes, parseRequestedScopes } from "../../domain/scopes";
import { readTokenRequest } from "../../domain/token-request";
import type { RequestOf, TokenResponse, tokenRoute } from "../../schemas/oauth";
import { bodyEncoding } from "./protocol";

/**
 * POST /v1/auth/token: the client credentials grant. Checks run from the request's shape to the client's
 * rights: malformed request, unsupported grant, client authentication, scope.
 * A success writes nothing to the database; it is logged.
 */
export async function issueToken(this: FastifyInstance, request: RequestOf<typeof tokenRoute>): Promise<TokenResponse> {
  const { grantType, scope } = readTokenRequest(request.body, bodyEncoding(request));
  const presented = presentedClient(request.headers.authorization, request.body);
  if (!grantSupported(grantType)) {
    throw new OAuthError("unsupported_grant_type", "only the client_credentials grant is supported");
  }
  const client = await this.clientAuth.authenticate(presented, {
    purpose: "token",
    origin: requestOrigin(request),
    log: request.log,
  });
  const scopes = grantScopes(parseRequestedScopes(scope), client.scopes);
  const issued = await this.accessTokens.issue(client, scopes);
  request.log.info(
    {
      organizationId: client.organizationId,
      clientKey: client.clientKey,
      method: presented.method,
      scope: issued.scope,
      jti: issued.jti,
    },
    "issued a partner access token",
  );
  return {
    access_token: issued.token,
    token_type: "Bearer",
    expires_in: issued.expiresIn,
    scope: issued.scope,
    created_at: issued.issuedAt.toISOString(),
  };
}
