import type { Db, DbOrTx } from "@ipaas/db";
import { newId, writeAudit } from "@ipaas/domain";
import { type Claims, issuedBefore, randomToken, type TokenService, waitPastCutoff } from "@ipaas/service-kit";
import type { Actor } from "../../access/access";
import type { DashboardConfig } from "../../config";
import { fail } from "../../errors";
import { claimsFor, type UserClaims } from "./claims";
import {
  claimRefreshToken,
  endSession,
  endUserSessions,
  findRefreshToken,
  findSessionWithActor,
  findSessionWithUser,
  insertRefreshToken,
  openSession,
  type SessionWithUser,
  touchSession,
} from "./repository";
import type { SessionView } from "./session-view";

/** Dashboard access tokens: their own `typ` and audience, so no other kind of token passes for one. */
export const ACCESS_TOKEN = { typ: "at+jwt", audience: "ipaas-dashboard" } as const;

export interface Origin {
  ip: string | null;
  userAgent: string | null;
}

/** What login, refresh and the seed's login response return. */
export interface IssuedSession {
  token: string;
  expiredIn: string;
  createdAt: string;
  refreshToken: string;
  sessionId: string;
}

/** The caller of an authenticated route: who, which session, and the token's own claims. */
export interface Principal {
  userId: string;
  tenantId: string;
  sessionId: string;
  jti: string;
  head: boolean;
  internal: boolean;
}

/** "900s" → "15m": the seed's `expiredIn` is a duration string such as "1d". */
export function durationLabel(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400}d`;
  if (seconds % 3_600 === 0) return `${seconds / 3_600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/**
 * Login sessions, their rotating refresh tokens, and the access tokens that name them. An access token
 * is only as good as its session: ending the session (logout, reset, disable, delete) stops it at once.
 */
export class Sessions {
  constructor(
    private readonly db: Db,
    private readonly tokens: TokenService,
    private readonly config: Pick<
      DashboardConfig,
      "ACCESS_TOKEN_TTL_SECONDS" | "SESSION_IDLE_MINUTES" | "SESSION_ABSOLUTE_HOURS"
    >,
    /** What this instance remembers of sessions between requests (see SessionView). */
    readonly view: SessionView,
  ) {}

  /**
   * Starts a session after a complete login (password and second factor), in the login's transaction, if
   * the user is still as read before the password was checked (see `openSession`); null if not.
   */
  async open(
    tx: DbOrTx,
    user: { id: string; passwordHash: string; tokensNotBefore: Date | null },
    origin: Origin,
    mfaMethod: string,
  ): Promise<{ sessionId: string; refreshToken: string } | null> {
    const now = Date.now();
    const sessionId = newId("ses");
    const refreshToken = randomToken(32);
    const absoluteExpiresAt = new Date(now + this.config.SESSION_ABSOLUTE_HOURS * 3_600_000);
    const opened = await openSession(
      tx,
      {
        id: sessionId,
        userId: user.id,
        ip: origin.ip,
        userAgent: origin.userAgent,
        mfaMethod,
        idleExpiresAt: new Date(now + this.#idleMs()),
        absoluteExpiresAt,
        refreshToken,
      },
      user,
    );
    return opened ? { sessionId, refreshToken } : null;
  }

  /**
   * Exchanges a refresh token for a new pair. A token used twice means it was stolen: the whole session
   * (every token of the family) ends.
   */
  async refresh(refreshToken: string, origin: Origin): Promise<IssuedSession> {
    const now = new Date();
    const row = await findRefreshToken(this.db, refreshToken);
    if (!row) throw fail("INVALID_REFRESH_TOKEN");
    const { session } = row;
    if (row.usedAt !== null) return this.#reused(session, origin);
    const live = this.#isLive(session, now) && row.expiresAt > now;
    if (!live || !isActiveUser(session.user) || !tenantAllowsSignIn(session.user.tenant)) {
      throw fail("INVALID_REFRESH_TOKEN");
    }
    const next = randomToken(32);
    const result = await this.db.$transaction(async (tx) => {
      // Only one of two racing refreshes can mark the token used; the loser is treated as reuse.
      if (!(await claimRefreshToken(tx, row.id, now))) return null;
      await insertRefreshToken(tx, {
        sessionId: session.id,
        token: next,
        parentId: row.id,
        expiresAt: session.absoluteExpiresAt,
      });
      await touchSession(tx, session.id, now, this.#idleExpiry(session.absoluteExpiresAt, now));
      return claimsFor(tx, session.userId);
    });
    if (!result) return this.#reused(session, origin);
    return this.issue(result, session.id, next);
  }

  /** A refresh token presented twice was copied: its whole session ends, and the attempt is audited. */
  async #reused(session: { id: string; userId: string; user: { tenantId: string } }, origin: Origin): Promise<never> {
    await this.endSession(session.id, "refresh_token_reused");
    await writeAudit(
      this.db,
      {
        action: "auth.refresh_token_reused",
        outcome: "failure",
        actorType: "user",
        actorId: session.userId,
        tenantId: session.user.tenantId,
        details: { sessionId: session.id, sessionEnded: true },
      },
      origin,
    );
    throw fail("INVALID_REFRESH_TOKEN", "this refresh token was already used: the session has been ended");
  }

  /**
   * Checks what a verified access token depends on (session, the user's and tenant's state, the user's
   * `tokensNotBefore`) and returns who is calling. Refuses with INVALID_TOKEN.
   */
  async authenticate(token: Claims): Promise<Principal> {
    const claims = sessionClaims(token);
    const cached = this.view.cached(claims.sid);
    if (cached) {
      try {
        return await this.#principal(cached, claims);
      } catch {
        // Memory never refuses by itself: the database decides.
      }
    }
    const session = await this.view.load(() => findSessionWithUser(this.db, claims.sid));
    return this.#principal(session, claims);
  }

  /**
   * `authenticate`, and the caller's current tenant, rank and grants read in the same query: for routes
   * that check a permission. Routes about the caller themselves skip the grants' join.
   */
  async authenticateActor(token: Claims): Promise<{ principal: Principal; actor: Actor }> {
    const claims = sessionClaims(token);
    const session = await findSessionWithActor(this.db, claims.sid);
    const principal = await this.#principal(session, claims);
    // #principal refused a missing session.
    if (!session) throw fail("INVALID_TOKEN", "no session");
    return { principal, actor: session.actor };
  }

  async #principal(
    session: SessionWithUser | null,
    claims: { sub: string; iat: number; jti: string },
  ): Promise<Principal> {
    const now = new Date();
    if (!session || session.userId !== claims.sub) throw fail("INVALID_TOKEN", "no session");
    if (!this.#isLive(session, now)) throw fail("INVALID_TOKEN", "session ended");
    const { user } = session;
    if (!isActiveUser(user) || !tenantAllowsSignIn(user.tenant)) throw fail("INVALID_TOKEN", "account disabled");
    if (issuedBefore(claims.iat, user.tokensNotBefore)) {
      throw fail("INVALID_TOKEN", "revoked");
    }
    // Sliding idle timeout, written at most once a minute so reads stay reads.
    if (now.getTime() - session.lastSeenAt.getTime() > 60_000) {
      const idleExpiresAt = this.#idleExpiry(session.absoluteExpiresAt, now);
      await touchSession(this.db, session.id, now, idleExpiresAt);
      this.view.touched(session.id, now, idleExpiresAt);
    }
    return {
      userId: user.id,
      tenantId: user.tenantId,
      sessionId: session.id,
      jti: claims.jti,
      head: user.head,
      internal: user.internal,
    };
  }

  // Ending sessions here drops them from this instance's view at once; the other instances drop them when
  // the `access.changed` event the database writes with the change reaches them.
  async endSession(sessionId: string, reason: string, db: DbOrTx = this.db): Promise<void> {
    this.view.dropSession(sessionId, { changingHere: true });
    await endSession(db, sessionId, reason, new Date());
  }

  /** Ends every live session of a user, but `except` (the caller's own, when it should survive). */
  async endAllFor(userId: string, reason: string, options: { except?: string; db?: DbOrTx } = {}): Promise<number> {
    this.view.dropUser(userId, { changingHere: true });
    return endUserSessions(options.db ?? this.db, userId, reason, new Date(), options.except);
  }

  /** Signs the access token of a session (once past `notBefore`) and returns what login and refresh answer. */
  async issue(
    { claims, notBefore }: { claims: UserClaims; notBefore: Date | null },
    sessionId: string,
    refreshToken: string,
  ): Promise<IssuedSession> {
    await waitPastCutoff(notBefore);
    const ttl = this.config.ACCESS_TOKEN_TTL_SECONDS;
    const { token, issuedAt } = await this.tokens.sign(
      { ...claims, sid: sessionId },
      { typ: ACCESS_TOKEN.typ, audience: ACCESS_TOKEN.audience, subject: claims.userId, ttlSeconds: ttl },
    );
    return { token, expiredIn: durationLabel(ttl), createdAt: issuedAt.toISOString(), refreshToken, sessionId };
  }

  #idleMs(): number {
    return this.config.SESSION_IDLE_MINUTES * 60_000;
  }

  #idleExpiry(absolute: Date, now: Date): Date {
    return new Date(Math.min(absolute.getTime(), now.getTime() + this.#idleMs()));
  }

  #isLive(session: { endedAt: Date | null; idleExpiresAt: Date; absoluteExpiresAt: Date }, now: Date): boolean {
    return session.endedAt === null && session.idleExpiresAt > now && session.absoluteExpiresAt > now;
  }
}

export function isActiveUser(user: { status: string; deletedAt: Date | null }): boolean {
  return user.status === "ACTIVE" && user.deletedAt === null;
}

/**
 * A pending tenant's users sign in to finish their set-up while they wait for approval; a suspended or
 * deleted tenant's users do not sign in at all.
 */
export function tenantAllowsSignIn(tenant: { status: string; deletedAt: Date | null }): boolean {
  return (tenant.status === "ACTIVE" || tenant.status === "PENDING") && tenant.deletedAt === null;
}

/** The claims a verified access token must carry besides the standard ones. */
function sessionClaims(claims: Claims): { sid: string; sub: string; iat: number; jti: string } {
  if (typeof claims.sid !== "string") throw fail("INVALID_TOKEN", "no session");
  return { sid: claims.sid, sub: claims.sub, iat: claims.iat, jti: claims.jti };
}
