/** The only grant partners use. */
export const CLIENT_CREDENTIALS = "client_credentials";

/**
 * Whether the server supports a grant. It supports client credentials and nothing else, for any client, so
 * every other grant (authorization_code, password, refresh_token or one nobody defines) is RFC 6749 §5.2's
 * `unsupported_grant_type`; `unauthorized_client` would say the server has the grant for other clients.
 */
export function grantSupported(grantType: string): boolean {
  return grantType === CLIENT_CREDENTIALS;
}
