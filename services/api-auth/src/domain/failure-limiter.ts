export interface FailureLimiterOptions {
  /** Failures allowed in one window; a key with this many is over its limit until the window ends. */
  maxFailures: number;
  windowMs: number;
  /** Bound on the keys tracked at once. */
  maxEntries: number;
  now?: () => number;
}

interface Window {
  failures: number;
  endsAt: number;
}

/**
 * Counts failed authentications per key in fixed windows, in memory and bounded. A key with
 * `maxFailures` failures in its window is over its limit until the window ends; success does not reset the
 * count, so interleaving with the real client does not wipe an attacker's record. What being over the
 * limit means is the caller's decision: the counts shed and slow failures, they never refuse a success.
 */
export class FailureLimiter {
  readonly #windows = new Map<string, Window>();
  readonly #now: () => number;

  constructor(private readonly options: FailureLimiterOptions) {
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#windows.size;
  }

  /** Seconds until `key`'s window ends when it is over its limit, or null when it is not. */
  retryAfterSeconds(key: string): number | null {
    const window = this.#windows.get(key);
    if (!window) return null;
    const now = this.#now();
    if (window.endsAt <= now) {
      this.#windows.delete(key);
      return null;
    }
    return window.failures >= this.options.maxFailures ? Math.ceil((window.endsAt - now) / 1000) : null;
  }

  /** Counts one failure of `key`; returns its failures in the current window, this one included. */
  recordFailure(key: string): number {
    const now = this.#now();
    const window = this.#windows.get(key);
    if (window && window.endsAt > now) {
      window.failures += 1;
      return window.failures;
    }
    this.#windows.delete(key);
    // Windows are inserted when they start and all last as long, so the first one in the map ends first:
    // evicting it when full drops the window closest to expiring anyway.
    while (this.#windows.size >= this.options.maxEntries) {
      const oldest = this.#windows.keys().next();
      if (oldest.done) break;
      this.#windows.delete(oldest.value);
    }
    this.#windows.set(key, { failures: 1, endsAt: now + this.options.windowMs });
    return 1;
  }
}
