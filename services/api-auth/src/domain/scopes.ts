import { OAuthError } from "./oauth-errors";

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
const MAX_SCOPES = 100;

/**
 * The scopes a request asks for: a space-separated string (the standard `scope`, and the seed's `scopes`),
 * or, in JSON, an array of scope tokens. `undefined` when none were asked for.
 */
export function parseRequestedScopes(value: string | readonly string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const tokens = typeof value === "string" ? value.split(" ").filter((s) => s !== "") : [...value];
  if (tokens.length > MAX_SCOPES) throw new OAuthError("invalid_scope", "too many scopes requested");
  for (const token of tokens) {
    if (!SCOPE_TOKEN.test(token)) throw new OAuthError("invalid_scope", "a requested scope is malformed");
  }
  return tokens.length === 0 ? undefined : [...new Set(tokens)];
}

/**
 * What the token will carry: the requested scopes when every one of them is allowed to the organization,
 * or all of the organization's scopes when none were requested (RFC 6749 §3.3 lets the server apply a
 * default). Anything outside the allowed set refuses the whole request rather than silently narrowing it.
 */
export function grantScopes(requested: readonly string[] | undefined, allowed: readonly string[]): string[] {
  if (requested === undefined) {
    if (allowed.length === 0) throw new OAuthError("invalid_scope", "no scope is allowed to this client");
    return [...allowed];
  }
  const permitted = new Set(allowed);
  if (requested.some((scope) => !permitted.has(scope))) {
    throw new OAuthError("invalid_scope", "a requested scope is not allowed to this client");
  }
  return [...requested];
}
