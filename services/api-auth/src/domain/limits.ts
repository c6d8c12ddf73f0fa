import type { BaseConfig } from "@ipaas/service-kit";
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
  /**
   * Failed client authentications in one window: per client key from one address, per address whatever
   * the key, and per client key from every address together (the ceiling that notices rotating addresses).
   */
  failuresPerClient: number;
  failuresPerAddress: number;
  failuresPerClientAcrossAddresses: number;
  failureWindowSeconds: number;
  /** How long a wrong secret for a client over its ceiling across addresses waits for its answer. */
  guessingDelayMs: number;
  /** Bound on the keys, addresses and key-address pairs whose failures are tracked at once (each). */
  failureTrackingMaxEntries: number;
}

const DEFAULT_LIMITS = Object.freeze({
  // Resource servers may introspect on every call they serve, from a handful of addresses.
  introspectionRequestsPerMinute: 6000,
  failuresPerClient: 10,
  failuresPerAddress: 100,
  failuresPerClientAcrossAddresses: 100,
  failureWindowSeconds: 300,
  guessingDelayMs: 1000,
  failureTrackingMaxEntries: 10_000,
});

export function oauthLimits(
  config: Pick<BaseConfig, "AUTH_RATE_LIMIT_PER_MINUTE">,
  overrides: Partial<OAuthLimits> = {},
): OAuthLimits {
  return {
    tokenRequestsPerMinute: config.AUTH_RATE_LIMIT_PER_MINUTE,
    revocationRequestsPerMinute: config.AUTH_RATE_LIMIT_PER_MINUTE,
    ...DEFAULT_LIMITS,
    ...overrides,
  };
}

/** How to answer one failed client authentication. */
export interface FailureVerdict {
  /** Null: answer as usual (401). Otherwise a counter is over its limit: 429 with this Retry-After. */
  retryAfterSeconds: number | null;
  /** How long to hold the answer; non-zero only while the client is over its ceiling across addresses. */
  delayMs: number;
  /** True for the one failure per window that takes the client to its ceiling: the moment to raise an alarm. */
  ceilingReached: boolean;
}

/**
 * Failed authentications (a wrong secret or an unknown client key) counted per client key from one address,
 * per address (one address trying many clients), and per client key across addresses (rotating addresses).
 * The address is Fastify's `request.ip`, which believes `X-Forwarded-For` only from the proxies TRUST_PROXY
 * names.
 *
 * The counters only ever decide how a failure is answered. Client secrets are 256-bit, so guessing one is
 * infeasible and the counters exist to shed noise and raise an alarm: if they refused the right secret too,
 * anyone who knows a client key could lock its organization out.
 */
export class AuthFailureGuard {
  readonly #byPair: FailureLimiter;
  readonly #byAddress: FailureLimiter;
  readonly #byClient: FailureLimiter;

  constructor(
    private readonly limits: OAuthLimits,
    now: () => number = Date.now,
  ) {
    const common = { windowMs: limits.failureWindowSeconds * 1000, maxEntries: limits.failureTrackingMaxEntries, now };
    this.#byPair = new FailureLimiter({ ...common, maxFailures: limits.failuresPerClient });
    this.#byAddress = new FailureLimiter({ ...common, maxFailures: limits.failuresPerAddress });
    this.#byClient = new FailureLimiter({ ...common, maxFailures: limits.failuresPerClientAcrossAddresses });
  }

  /** Counts one failure of `clientKey` from `address` and says how to answer it. */
  recordFailure(clientKey: string, address: string): FailureVerdict {
    // An address never contains a space, so this key cannot be read two ways.
    const pair = `${address} ${clientKey}`;
    // Looked at before counting, so the Nth failure of a window is still a 401 and only the ones after it 429.
    const clientWait = this.#byClient.retryAfterSeconds(clientKey);
    const waits = [this.#byPair.retryAfterSeconds(pair), this.#byAddress.retryAfterSeconds(address), clientWait];
    this.#byPair.recordFailure(pair);
    this.#byAddress.recordFailure(address);
    // Every failure counts towards the ceiling, answered 429 or not: each one was a guess at the secret.
    const clientFailures = this.#byClient.recordFailure(clientKey);
    const blocked = waits.filter((w): w is number => w !== null);
    return {
      retryAfterSeconds: blocked.length === 0 ? null : Math.max(...blocked),
      delayMs: clientWait === null ? 0 : this.limits.guessingDelayMs,
      ceilingReached: clientFailures === this.limits.failuresPerClientAcrossAddresses,
    };
  }

  /** Pairs, addresses and client keys currently tracked (for tests and metrics). */
  get tracked(): { pairs: number; addresses: number; clients: number } {
    return { pairs: this.#byPair.size, addresses: this.#byAddress.size, clients: this.#byClient.size };
  }
}
