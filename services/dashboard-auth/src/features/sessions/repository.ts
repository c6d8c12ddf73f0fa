import { type Db, type DbOrTx, type PreparedStatement, type Prisma, runPrepared, type TenantKind } from "@ipaas/db";
import { newId } from "@ipaas/domain";
import { sha256Hex } from "@ipaas/service-kit";
import type { Actor, Grants } from "../../access/access";

/** Whether the user completed a sign-in from `ip` since `since` (a familiar address). */
export async function signedInFrom(db: DbOrTx, userId: string, ip: string, since: Date): Promise<boolean> {
  const session = await db.session.findFirst({
    where: { userId, ip, createdAt: { gte: since } },
    select: { id: true },
  });
  return session !== null;
}

/** Ends every live session of a tenant's users (the tenant was deleted). */
export async function endTenantSessions(db: DbOrTx, tenantId: string, reason: string, at: Date): Promise<void> {
  await db.session.updateMany({
    where: { endedAt: null, user: { tenantId } },
    data: { endedAt: at, endReason: reason },
  });
}

/**
 * Starts a session and stores its first refresh token, in one statement, only while the user is as the
 * caller read them before checking the password: active, in a tenant that lets them sign in, with the same
 * password hash and `tokensNotBefore` (every change to their claims moves it). False when any of that changed.
 */
export async function openSession(
  db: DbOrTx,
  session: {
    id: string;
    userId: string;
    ip: string | null;
    userAgent: string | null;
    mfaMethod: string;
    idleExpiresAt: Date;
    absoluteExpiresAt: Date;
    refreshToken: string;
  },
  readAs: { passwordHash: string; tokensNotBefore: Date | null },
): Promise<boolean> {
  // The user's and tenant's conditions are isActiveUser and tenantAllowsSignIn (sessions.ts), as SQL.
  const stored = await db.$executeRaw`
    WITH opened AS (
      INSERT INTO sessions (id, "userId", ip, "userAgent", "mfaMethod", "idleExpiresAt", "absoluteExpiresAt")
      SELECT ${session.id}, u.id, ${session.ip}, ${session.userAgent}, ${session.mfaMethod},
             ${session.idleExpiresAt}::timestamptz, ${session.absoluteExpiresAt}::timestamptz
        FROM users u JOIN tenants t ON t.id = u."tenantId"
       WHERE u.id = ${session.userId} AND u.status = 'ACTIVE' AND u."deletedAt" IS NULL
         AND u."passwordHash" = ${readAs.passwordHash}
         AND u."tokensNotBefore" IS NOT DISTINCT FROM ${readAs.tokensNotBefore}::timestamptz
         AND t.status IN ('ACTIVE', 'PENDING') AND t."deletedAt" IS NULL
      RETURNING id, "absoluteExpiresAt")
    INSERT INTO refresh_tokens (id, "sessionId", "tokenHash", "expiresAt")
    SELECT ${newId("rft")}, opened.id, ${sha256Hex(session.refreshToken)}, opened."absoluteExpiresAt" FROM opened`;
  return stored === 1;
}

/** Stores a refresh token of a session by its hash. */
export async function insertRefreshToken(
  db: DbOrTx,
  data: { sessionId: string; token: string; expiresAt: Date; parentId?: string },
): Promise<void> {
  const { token, ...rest } = data;
  await db.refreshToken.create({ data: { id: newId("rft"), tokenHash: sha256Hex(token), ...rest } });
}

/** A refresh token with its session, user and tenant, or null. */
export function findRefreshToken(db: DbOrTx, token: string) {
  return db.refreshToken.findUnique({
    where: { tokenHash: sha256Hex(token) },
    include: { session: { include: { user: { include: { tenant: true } } } } },
  });
}

/** Marks a refresh token used unless it already is: only one of two racing refreshes gets `true`. */
export async function claimRefreshToken(db: DbOrTx, id: string, at: Date): Promise<boolean> {
  const marked = await db.refreshToken.updateMany({ where: { id, usedAt: null }, data: { usedAt: at } });
  return marked.count === 1;
}

/** What authenticating a request reads of a session, its user and their tenant. */
export interface SessionWithUser {
  id: string;
  userId: string;
  endedAt: Date | null;
  idleExpiresAt: Date;
  absoluteExpiresAt: Date;
  lastSeenAt: Date;
  user: {
    id: string;
    tenantId: string;
    head: boolean;
    internal: boolean;
    status: string;
    deletedAt: Date | null;
    tokensNotBefore: Date | null;
    tenant: { status: string; deletedAt: Date | null };
  };
}

/**
 * A session with what is checked of its user and tenant, in one statement of only those columns (every
 * authenticated request runs it, so it is prepared once per connection); null when there is no session.
 */
const SESSION_WITH_USER: PreparedStatement = {
  name: "session-with-user",
  text: `SELECT s.id, s."userId", s."endedAt", s."idleExpiresAt", s."absoluteExpiresAt", s."lastSeenAt",
                u."tenantId", u.head, u.internal, u.status::text AS "userStatus", u."deletedAt" AS "userDeletedAt",
                u."tokensNotBefore", t.status::text AS "tenantStatus", t."deletedAt" AS "tenantDeletedAt"
           FROM sessions s
           JOIN users u ON u.id = s."userId"
           JOIN tenants t ON t.id = u."tenantId"
          WHERE s.id = $1`,
};

/** The statement's flat row: the session's columns, the user's, and the tenant's, renamed where they clash. */
type SessionRow = Omit<SessionWithUser, "user"> &
  Pick<SessionWithUser["user"], "tenantId" | "head" | "internal" | "tokensNotBefore"> & {
    userStatus: string;
    userDeletedAt: Date | null;
    tenantStatus: string;
    tenantDeletedAt: Date | null;
  };

export async function findSessionWithUser(db: Db, id: string): Promise<SessionWithUser | null> {
  const [row] = await runPrepared<SessionRow>(db, SESSION_WITH_USER, [id]);
  return row ? sessionFromRow(row) : null;
}

function sessionFromRow(row: SessionRow): SessionWithUser {
  return {
    id: row.id,
    userId: row.userId,
    endedAt: row.endedAt,
    idleExpiresAt: row.idleExpiresAt,
    absoluteExpiresAt: row.absoluteExpiresAt,
    lastSeenAt: row.lastSeenAt,
    user: {
      id: row.userId,
      tenantId: row.tenantId,
      head: row.head,
      internal: row.internal,
      status: row.userStatus,
      deletedAt: row.userDeletedAt,
      tokensNotBefore: row.tokensNotBefore,
      tenant: { status: row.tenantStatus, deletedAt: row.tenantDeletedAt },
    },
  };
}

/** What a permission check reads besides the session: the caller's tenant, rank and live grants. */
export interface SessionWithActor extends SessionWithUser {
  actor: Actor;
}

/**
 * `SESSION_WITH_USER` and the caller's tenant kind and bank, role rank and grants on live modules (as one
 * JSON array), in one prepared statement: every route that checks a permission runs it.
 */
const SESSION_WITH_ACTOR: PreparedStatement = {
  name: "session-with-actor",
  text: `SELECT s.id, s."userId", s."endedAt", s."idleExpiresAt", s."absoluteExpiresAt", s."lastSeenAt",
                u."tenantId", u.head, u.internal, u.status::text AS "userStatus", u."deletedAt" AS "userDeletedAt",
                u."tokensNotBefore", t.status::text AS "tenantStatus", t."deletedAt" AS "tenantDeletedAt",
                t.kind::text AS "tenantKind", t."bankId", r.rank AS "roleRank",
                COALESCE((SELECT json_agg(json_build_object('slug', m.slug, 'read', p."allowRead",
                                                            'create', p."allowCreate", 'update', p."allowUpdate",
                                                            'delete', p."allowDelete"))
                            FROM user_permissions p JOIN modules m ON m.id = p."moduleId"
                           WHERE p."userId" = u.id AND m."deletedAt" IS NULL), '[]'::json) AS grants
           FROM sessions s
           JOIN users u ON u.id = s."userId"
           JOIN tenants t ON t.id = u."tenantId"
           JOIN roles r ON r.id = u."roleId"
          WHERE s.id = $1`,
};

type ActorRow = SessionRow & {
  tenantKind: TenantKind;
  bankId: string | null;
  roleRank: number;
  grants: Array<{ slug: string } & Grants>;
};

export async function findSessionWithActor(db: Db, id: string): Promise<SessionWithActor | null> {
  const [row] = await runPrepared<ActorRow>(db, SESSION_WITH_ACTOR, [id]);
  if (!row) return null;
  return {
    ...sessionFromRow(row),
    actor: {
      userId: row.userId,
      tenant: { id: row.tenantId, kind: row.tenantKind, bankId: row.bankId },
      head: row.head,
      internal: row.internal,
      roleRank: row.roleRank,
      grants: new Map(row.grants.map(({ slug, ...grants }) => [slug, grants])),
    },
  };
}

/** Records a use of the session and pushes its idle expiry. */
export async function touchSession(db: DbOrTx, id: string, at: Date, idleExpiresAt: Date): Promise<void> {
  await db.session.update({ where: { id }, data: { lastSeenAt: at, idleExpiresAt } });
}

export async function endSession(db: DbOrTx, id: string, reason: string, at: Date): Promise<void> {
  await db.session.updateMany({ where: { id, endedAt: null }, data: { endedAt: at, endReason: reason } });
}

/** Ends every live session of a user but `except`; returns how many ended. */
export async function endUserSessions(
  db: DbOrTx,
  userId: string,
  reason: string,
  at: Date,
  except?: string,
): Promise<number> {
  const result = await db.session.updateMany({
    where: { userId, endedAt: null, ...(except ? { id: { not: except } } : {}) },
    data: { endedAt: at, endReason: reason },
  });
  return result.count;
}

/** What the claims are made of: the user with role, tenant and authenticator. */
export function findClaimsUser(db: DbOrTx, userId: string) {
  return db.user.findUniqueOrThrow({ where: { id: userId }, include: { role: true, tenant: true, totp: true } });
}

export function liveModulesBySlug(db: DbOrTx) {
  return db.module.findMany({ where: { deletedAt: null }, orderBy: { slug: "asc" } });
}

export function permissionRowsBySlug(db: DbOrTx, userId: string) {
  return db.userPermission.findMany({
    where: { userId, module: { deletedAt: null } },
    include: { module: true },
    orderBy: { module: { slug: "asc" } },
  });
}

/** Tokens of these users issued before `at` are refused from now on. */
export async function setTokensNotBefore(db: DbOrTx, where: Prisma.UserWhereInput, at: Date): Promise<void> {
  await db.user.updateMany({ where, data: { tokensNotBefore: at } });
}

/** The account an e-mail signs in to, with its tenant, or null. */
export function findSignInUser(db: DbOrTx, email: string) {
  return db.user.findUnique({ where: { email }, include: { tenant: true } });
}
