import type { SessionWithUser } from "./repository";

export interface SessionViewOptions {
  /** How long an entry is trusted without news; 0 turns the view off. */
  ttlMs: number;
  maxEntries: number;
  /** Whether the events that keep the view true are flowing (see StreamFollower.live). */
  live: () => boolean;
  now?: () => number;
}

interface Entry {
  session: SessionWithUser;
  expiresAt: number;
}

/** What code that changes sessions, users or tenants tells the view of the instance it runs in. */
export type AccessChanges = Pick<SessionView, "dropSession" | "dropUser" | "dropTenant" | "dropAll">;

/** For a process that keeps no sessions in memory (the admin command): there is nothing to drop. */
export const NO_SESSION_VIEW: AccessChanges = {
  dropSession: () => undefined,
  dropUser: () => undefined,
  dropTenant: () => undefined,
  dropAll: () => undefined,
};

/**
 * How long this instance keeps from caching a user or tenant it is changing itself: its own transaction
 * commits, and the change's event arrives, well within it.
 */
const HOLD_OFF_MS = 5_000;

/**
 * This instance's memory of the sessions requests were authenticated with: each session with the state of
 * its user and tenant that authenticating a request checks. It answers only while the `access.changed`
 * events flow (`live`) and an entry is younger than `ttlMs`; every event drops what it names (a user, or
 * a whole tenant) and the next request reads the database again. An entry never refuses a request by
 * itself: a caller that would refuse from it reads the database first (see Sessions.authenticate), so a
 * stale entry can only be too lenient, for at most the time an event takes to arrive.
 */
export class SessionView {
  readonly #entries = new Map<string, Entry>();
  /** Sessions, users and tenants (or "*": all) this instance is changing right now: what is read of them is not kept. */
  readonly #holdOff = new Map<string, number>();
  /** Bumped by every drop, so a read that started before it does not store what it read. */
  #generation = 0;
  readonly #now: () => number;

  constructor(private readonly options: SessionViewOptions) {
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Whether the view may answer right now. */
  get live(): boolean {
    return this.options.live();
  }

  /** The session as last read, when the view may answer for it; else null (read the database). */
  cached(sessionId: string): SessionWithUser | null {
    const entry = this.#entries.get(sessionId);
    if (!entry) return null;
    if (entry.expiresAt <= this.#now() || !this.options.live()) {
      this.#entries.delete(sessionId);
      return null;
    }
    return entry.session;
  }

  /** Reads a session with `read` and keeps it, unless something about it changed while it was read. */
  async load(read: () => Promise<SessionWithUser | null>): Promise<SessionWithUser | null> {
    const generation = this.#generation;
    const session = await read();
    if (session && generation === this.#generation && this.#mayKeep(session)) this.#store(session);
    return session;
  }

  /** Records that this instance pushed a session's idle expiry, so the entry does not ask to again. */
  touched(sessionId: string, lastSeenAt: Date, idleExpiresAt: Date): void {
    const entry = this.#entries.get(sessionId);
    if (entry) entry.session = { ...entry.session, lastSeenAt, idleExpiresAt };
  }

  /** A user's sessions or state changed (an event, or this instance about to change them). */
  dropUser(userId: string, options: { changingHere?: boolean } = {}): void {
    if (options.changingHere) this.#holdOffFor(`u:${userId}`);
    this.#drop((session) => session.userId === userId);
  }

  /** A tenant's state changed: every session of its users goes. */
  dropTenant(tenantId: string, options: { changingHere?: boolean } = {}): void {
    if (options.changingHere) this.#holdOffFor(`t:${tenantId}`);
    this.#drop((session) => session.user.tenantId === tenantId);
  }

  /** One session changed. */
  dropSession(sessionId: string, options: { changingHere?: boolean } = {}): void {
    if (options.changingHere) this.#holdOffFor(`s:${sessionId}`);
    this.#drop((session) => session.id === sessionId);
  }

  /** Many users changed at once (a module or role change): everything goes. */
  dropAll(options: { changingHere?: boolean } = {}): void {
    if (options.changingHere) this.#holdOffFor("*");
    this.clear();
  }

  /** Forgets everything: events may have gone by unseen. */
  clear(): void {
    this.#generation += 1;
    this.#entries.clear();
  }

  #drop(matches: (session: SessionWithUser) => boolean): void {
    this.#generation += 1;
    // A linear scan: changes are rare next to reads, and the view is bounded.
    for (const [id, entry] of this.#entries) if (matches(entry.session)) this.#entries.delete(id);
  }

  #mayKeep(session: SessionWithUser): boolean {
    if (this.options.ttlMs <= 0 || !this.options.live()) return false;
    const now = this.#now();
    for (const key of ["*", `s:${session.id}`, `u:${session.userId}`, `t:${session.user.tenantId}`]) {
      const until = this.#holdOff.get(key);
      if (until === undefined) continue;
      if (until > now) return false;
      this.#holdOff.delete(key);
    }
    return true;
  }

  #holdOffFor(key: string): void {
    const now = this.#now();
    // Bounded by what one instance changes within HOLD_OFF_MS: the lapsed ones go as new ones come.
    for (const [other, until] of this.#holdOff) if (until <= now) this.#holdOff.delete(other);
    this.#holdOff.set(key, now + HOLD_OFF_MS);
  }

  #store(session: SessionWithUser): void {
    this.#entries.delete(session.id);
    while (this.#entries.size >= this.options.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(session.id, { session, expiresAt: this.#now() + this.options.ttlMs });
  }
}
