export interface FailureLimiterOptions {
  /** Failures allowed in one window; the next attempt is refused until the window ends. */
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
 * `maxFailures` failures in its window is refused until the window ends; success does not reset the
 * count, so an attacker interleaving with the real client still gets at most `maxFailures` guesses a window.
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

  /** Seconds until `key` may try again, or null when it may try now. */
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

  recordFailure(key: string): void {
    const now = this.#now();
    const window = this.#windows.get(key);
    if (window && window.endsAt > now) {
      window.failures += 1;
      return;
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
  }
}
