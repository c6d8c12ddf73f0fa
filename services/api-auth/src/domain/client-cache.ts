import type { ClientRecord } from "./clients";

export type ClientLoader = (clientKey: string) => Promise<ClientRecord | null>;

export interface ClientCacheOptions {
  /** How long an entry is trusted; 0 turns the cache off. */
  ttlMs: number;
  maxEntries: number;
  now?: () => number;
}

interface Entry {
  client: ClientRecord;
  expiresAt: number;
}

/**
 * A bounded in-memory cache of organization clients by client key, so a token request for a known client
 * costs no database round trip. An entry lives at most `ttlMs`: that bounds how stale a view can be when
 * no invalidation arrives. The least recently used entry is evicted when the cache is full.
 *
 * Unknown client keys are not cached: an organization created a moment ago must work at once, and the
 * rate limits bound what an unknown key can cost.
 */
export class ClientCache {
  readonly #entries = new Map<string, Entry>();
  readonly #loading = new Map<string, Promise<ClientRecord | null>>();
  /** Bumped by every invalidation, so a load that started before it does not store what it read. */
  #generation = 0;
  readonly #now: () => number;

  constructor(
    private readonly load: ClientLoader,
    private readonly options: ClientCacheOptions,
  ) {
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The client with this key, from memory when fresh, else from the loader (one call however many ask at once). */
  async get(clientKey: string): Promise<ClientRecord | null> {
    const entry = this.#entries.get(clientKey);
    if (entry) {
      this.#entries.delete(clientKey);
      if (entry.expiresAt > this.#now()) {
        this.#entries.set(clientKey, entry); // most recently used goes last
        return entry.client;
      }
    }
    const pending = this.#loading.get(clientKey);
    if (pending) return pending;

    const generation = this.#generation;
    const loading = this.load(clientKey)
      .then((loaded) => {
        if (loaded === null) return null;
        // Frozen: every caller shares this object, so none may change what the others see.
        const client: ClientRecord = Object.freeze({ ...loaded, scopes: Object.freeze([...loaded.scopes]) });
        if (generation === this.#generation) this.#store(client);
        return client;
      })
      .finally(() => {
        if (this.#loading.get(clientKey) === loading) this.#loading.delete(clientKey);
      });
    this.#loading.set(clientKey, loading);
    return loading;
  }

  /** Forgets every entry of one organization, whatever they hold. */
  invalidateOrganization(organizationId: string): void {
    this.#generation += 1;
    this.#loading.clear();
    // A linear scan: invalidations are rare (one per dashboard change) and the cache is bounded.
    for (const [key, entry] of this.#entries) {
      if (entry.client.organizationId === organizationId) this.#entries.delete(key);
    }
  }

  /**
   * Forgets an organization's entries because it changed, unless every live entry of it already reflects
   * that change (`isCurrent`): a duplicate or out-of-order event then leaves the fresher view in place.
   * With no live entry it invalidates anyway, since a load in flight may have read the state from before
   * the change. Returns whether it invalidated.
   */
  invalidateOrganizationUnlessCurrent(organizationId: string, isCurrent: (client: ClientRecord) => boolean): boolean {
    const now = this.#now();
    let live = 0;
    for (const entry of this.#entries.values()) {
      if (entry.client.organizationId !== organizationId) continue;
      // An expired entry is about to be reloaded: a load of it may be in flight, so it is not proof of anything.
      if (entry.expiresAt <= now || !isCurrent(entry.client)) {
        this.invalidateOrganization(organizationId);
        return true;
      }
      live += 1;
    }
    if (live > 0) return false;
    this.invalidateOrganization(organizationId);
    return true;
  }

  clear(): void {
    this.#generation += 1;
    this.#loading.clear();
    this.#entries.clear();
  }

  #store(client: ClientRecord): void {
    if (this.options.ttlMs <= 0) return;
    this.#entries.delete(client.clientKey);
    while (this.#entries.size >= this.options.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(client.clientKey, { client, expiresAt: this.#now() + this.options.ttlMs });
  }
}
