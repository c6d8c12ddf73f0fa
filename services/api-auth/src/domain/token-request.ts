import type { BodyCredentials } from "./client-credentials";
import { CLIENT_CREDENTIALS } from "./grant-types";
import { OAuthError } from "./oauth-errors";

/** The token request body, in either encoding: the standard form fields and the seed contract's JSON ones. */
export interface TokenRequestFields extends BodyCredentials {
  grant_type?: string | undefined;
  scope?: string | undefined;
  /** The seed's name for `scope`; JSON may also send an array. */
  scopes?: string | string[] | undefined;
}

export interface TokenRequest {
  grantType: string;
  scope: string | string[] | undefined;
}

/**
 * Reads the grant and the requested scope. The standard form must name its grant; the seed's JSON body
 * has no `grant_type` and means client credentials (when it does send one, it is checked like any other).
 */
export function readTokenRequest(body: TokenRequestFields, encoding: "json" | "form"): TokenRequest {
  const grantType = body.grant_type === "" ? undefined : body.grant_type;
  if (grantType === undefined && encoding === "form") {
    throw new OAuthError("invalid_request", "grant_type is required");
  }
  const scope = body.scope === "" ? undefined : body.scope;
  const scopes = body.scopes === "" ? undefined : body.scopes;
  if (scope !== undefined && scopes !== undefined) {
    throw new OAuthError("invalid_request", "send scope or scopes, not both");
  }
  return { grantType: grantType ?? CLIENT_CREDENTIALS, scope: scope ?? scopes };
}
