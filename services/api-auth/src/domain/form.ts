import { OAuthError } from "./oauth-errors";

/** Parameter names echoed back in an error description; anything else is described generically. */
const NAME_SHOWN = /^[a-z_]{1,40}$/;

/**
 * Parses an `application/x-www-form-urlencoded` body strictly: a parameter sent twice is refused
 * (RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once"), instead of one
 * of the values being picked silently.
 */
export function parseStrictForm(raw: string): Record<string, string> {
  const seen = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(raw)) {
    if (seen.has(name)) {
      const what = NAME_SHOWN.test(name) ? `the ${name} parameter` : "a parameter";
      throw new OAuthError("invalid_request", `${what} is included more than once`);
    }
    seen.set(name, value);
  }
  // fromEntries defines own properties, so a `__proto__` parameter cannot reach the prototype.
  return Object.fromEntries(seen);
}
