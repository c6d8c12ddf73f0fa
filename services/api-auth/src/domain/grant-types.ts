/** The only grant partners use. */
export const CLIENT_CREDENTIALS = "client_credentials";

/**
 * Grants that exist in OAuth but are not offered to partner clients: asking for one is
 * `unauthorized_client` (the client may not use it), while a value nobody defines is
 * `unsupported_grant_type`.
 */
const OTHER_KNOWN_GRANTS = new Set([
  "authorization_code",
  "password",
  "refresh_token",
  "implicit",
  "urn:ietf:params:oauth:grant-type:device_code",
  "urn:ietf:params:oauth:grant-type:jwt-bearer",
  "urn:ietf:params:oauth:grant-type:saml2-bearer",
  "urn:ietf:params:oauth:grant-type:token-exchange",
  "urn:openid:params:grant-type:ciba",
]);

export type GrantVerdict = "supported" | "not_for_partners" | "unknown";

export function classifyGrant(grantType: string): GrantVerdict {
  if (grantType === CLIENT_CREDENTIALS) return "supported";
  return OTHER_KNOWN_GRANTS.has(grantType) ? "not_for_partners" : "unknown";
}
