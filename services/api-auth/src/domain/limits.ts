import type { Config } from "@ipaas/service-kit";
import { FailureLimiter } from "./failure-limiter";

/**
 * Brute-force and flood limits on the OAuth endpoints. The per-address request limits of the token and
 * revocation endpoints come from AUTH_RATE_LIMIT_PER_MINUTE; the others are app options with defaults
 * suited to production, because the shared configuration schema does not list them.
 */
export interface OAuthLimits {
  /** Requests per minute from one client address, per endpoint (counted whatever the outcome). */
  tokenRequestsPerMinute: number;
  introspectionRequestsPerMinute: number;
  revocationRequestsPerMinute: number;
  /** Failed client authentications per client key, and per client address, in one window. */
  failuresPerClient: number;
  failuresPerAddress: number;
  failureWindowSeconds: number;
  /** Bound on the keys and addresses whose failures are tracked at once. */
  failureTrackingMaxEntries: number;
}

const DEFAULT_LIMITS = Object.freeze({
  // Resource servers may introspect on every call they serve, from a handful of addresses.
  introspectionRequestsPerMinute: 6000,
  failuresPerClient: 10,
  failuresPerAddress: 100,
  failureWindowSeconds: 300,
  failureTrackingMaxEntries: 10_000,
});

export function oauthLimits(
  config: Pick<Config, "AUTH_RATE_LIMIT_PER_MINUTE">,
  overrides: Partial<OAuthLimits> = {},
): OAuthLimits {
  return {
    tokenRequestsPerMinute: config.AUTH_RATE_LIMIT_PER_MINUTE,
    revocationRequestsPerMinute: config.AUTH_RATE_LIMIT_PER_MINUTE,
    ...DEFAULT_LIMITS,
    ...overrides,
  };
}

/**
 * Failed authentications counted per client key (a guessing attack on one client) and per client address
 * (one address trying many clients). The address is Fastify's `request.ip`, which believes
 * `X-Forwarded-For` only from the proxies TRUST_PROXY names.
 */
export class AuthFailureGuard {
  readonly #byClient: FailureLimiter;
  readonly #byAddress: FailureLimiter;

  constructor(limits: OAuthLimits, now: () => number = Date.now) {
    const common = { windowMs: limits.failureWindowSeconds * 1000, maxEntries: limits.failureTrackingMaxEntries, now };
    this.#byClient = new FailureLimiter({ ...common, maxFailures: limits.failuresPerClient });
    this.#byAddress = new FailureLimiter({ ...common, maxFailures: limits.failuresPerAddress });
  }

  /** Seconds until this client key from this address may try again, or null when it may try now. */
  retryAfterSeconds(clientKey: string, address: string): number | null {
    const waits = [this.#byClient.retryAfterSeconds(clientKey), this.#byAddress.retryAfterSeconds(address)];
    const blocked = waits.filter((w): w is number => w !== null);
    return blocked.length === 0 ? null : Math.max(...blocked);
  }

  recordFailure(clientKey: string, address: string): void {
    this.#byClient.recordFailure(clientKey);
    this.#byAddress.recordFailure(address);
  }

  /** Keys and addresses currently tracked (for tests and metrics). */
  get tracked(): { clients: number; addresses: number } {
    return { clients: this.#byClient.size, addresses: this.#byAddress.size };
  }
}
