import type { Db, Tx } from "@ipaas/db";
import { appendToOutbox, type TokenRevokedEvent } from "@ipaas/events";
import { isRevoked, liveRevocations, recordRevocation } from "../repositories/revoked-tokens";

/** A token to revoke: its id, the organization it belongs to, and its expiry. */
export interface TokenToRevoke {
  jti: string;
  organizationId: string;
  /** What the revocation row names as the token's subject (the organization, or the person's userId). */
  subject: string;
  expiresAt: Date;
}

/**
 * The ids of revoked tokens that have not expired yet, in memory. Entries are only ever added (a
 * revocation is never undone) and leave once their token would have expired anyway, so the set stays
 * bounded by what is revoked within one token lifetime.
 */
export class RevokedSet {
  readonly #expiries = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.#expiries.size;
  }

  add(jti: string, expiresAt: Date): void {
    const at = expiresAt.getTime();
    if (at > this.now()) this.#expiries.set(jti, Math.max(at, this.#expiries.get(jti) ?? 0));
  }

  has(jti: string): boolean {
    const at = this.#expiries.get(jti);
    return at !== undefined && at > this.now();
  }

  /** Forgets the entries whose token has expired. */
  prune(): void {
    const now = this.now();
    for (const [jti, at] of this.#expiries) if (at <= now) this.#expiries.delete(jti);
  }
}

/** Tells whether the in-memory set is trustworthy right now (see StreamFollower.live). */
export type Liveness = () => boolean;

/**
 * Revoking tokens and asking whether one is revoked. A revocation is written with its `token.revoked`
 * event in one transaction, added to this instance's set at once, and reaches the other instances through
 * the event. The set answers only while it is live; otherwise the database does, and when the database
 * cannot, the error propagates and the request fails closed.
 */
export class Revocations {
  constructor(
    private readonly db: Db,
    readonly set: RevokedSet,
    private readonly isLive: Liveness,
  ) {}

  /** Whether checks are answered from memory right now. */
  get live(): boolean {
    return this.isLive();
  }

  async isRevoked(jti: string): Promise<boolean> {
    if (this.isLive()) return this.set.has(jti);
    return isRevoked(this.db, jti);
  }

  /** Records the revocation and its event; `within` runs in the same transaction (e.g. an audit entry). */
  async revoke(token: TokenToRevoke, within?: (tx: Tx) => Promise<void>): Promise<void> {
    await this.db.$transaction(async (tx) => {
      await recordRevocation(tx, { jti: token.jti, subject: token.subject, expiresAt: token.expiresAt });
      await appendToOutbox(tx, revokedEvent(token));
      await within?.(tx);
    });
    this.set.add(token.jti, token.expiresAt);
  }

  /** Adds every live revocation in the database to the set (what the events may have missed). */
  async rebuild(): Promise<void> {
    for (const row of await liveRevocations(this.db, new Date())) this.set.add(row.jti, row.expiresAt);
    this.set.prune();
  }
}

function revokedEvent(token: TokenToRevoke): TokenRevokedEvent {
  return {
    type: "token.revoked",
    data: {
      organizationId: token.organizationId,
      jti: token.jti,
      expiresAt: token.expiresAt.toISOString(),
      occurredAt: new Date().toISOString(),
    },
  };
}
