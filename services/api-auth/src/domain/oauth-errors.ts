/**
 * OAuth 2.0 error responses (RFC 6749 §5.2, RFC 7009 §2.2.1, RFC 7662 §2.3). The OAuth endpoints answer
 * with `{ error, error_description }` JSON rather than problem+json, because that is what OAuth clients
 * parse.
 */

export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "unsupported_grant_type"
  | "invalid_scope"
  /** Not in RFC 6749: the answer to a client (or address) that has failed or asked too often. */
  | "too_many_requests"
  /** RFC 6749 §4.1.2.1's code for a passing outage, as the token endpoint's 503. */
  | "temporarily_unavailable"
  | "server_error";

const DEFAULT_STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  too_many_requests: 429,
  temporarily_unavailable: 503,
  server_error: 500,
};

/** The realm named in `WWW-Authenticate` on every 401 from the OAuth endpoints. */
const BASIC_CHALLENGE = 'Basic realm="api-auth", charset="UTF-8"';

/** RFC 6749 §5.2 limits error_description to %x20-21 / %x23-5B / %x5D-7E; anything else is replaced. */
function safeDescription(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, "?").slice(0, 300);
}

export class OAuthError extends Error {
  override name = "OAuthError";
  readonly status: number;
  readonly description: string;
  readonly headers: Record<string, string>;

  constructor(
    readonly error: OAuthErrorCode,
    description: string,
    options: { status?: number; headers?: Record<string, string> } = {},
  ) {
    super(`${error}: ${description}`);
    this.description = safeDescription(description);
    this.status = options.status ?? DEFAULT_STATUS[error];
    // HTTP requires a challenge on every 401 (RFC 9110 §15.5.2); Basic is the scheme a client can retry with.
    this.headers = { ...(this.status === 401 ? { "www-authenticate": BASIC_CHALLENGE } : {}), ...options.headers };
  }

  get body(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}

/**
 * The one answer to every failed client authentication: unknown client, wrong secret, unusable
 * organization and malformed credentials all look the same, so the endpoint cannot be used to find out
 * which client keys exist.
 */
export function invalidClient(): OAuthError {
  return new OAuthError("invalid_client", "client authentication failed");
}

export function tooManyRequests(retryAfterSeconds: number): OAuthError {
  return new OAuthError("too_many_requests", "too many requests; retry later", {
    headers: { "retry-after": String(Math.max(1, Math.ceil(retryAfterSeconds))) },
  });
}
