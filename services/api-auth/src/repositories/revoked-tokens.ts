import { type Db, type DbOrTx, type PreparedStatement, runPrepared } from "@ipaas/db";

export interface Revocation {
  jti: string;
  /** The organization the token was issued to. */
  subject: string;
  /** When the token would have expired anyway: the row is useless after it. */
  expiresAt: Date;
}

/** Records a revoked token; revoking it again changes nothing. */
export async function recordRevocation(db: DbOrTx, revocation: Revocation): Promise<void> {
  await db.revokedToken.createMany({ data: [revocation], skipDuplicates: true });
}

/** Asked for every partner and user token presented while the in-memory set cannot answer. */
const IS_REVOKED: PreparedStatement = {
  name: "is-revoked",
  text: "SELECT 1 FROM revoked_tokens WHERE jti = $1",
};

export async function isRevoked(db: Db, jti: string): Promise<boolean> {
  return (await runPrepared(db, IS_REVOKED, [jti])).length > 0;
}

/** Every revocation of a token that has not expired yet: what the in-memory set is rebuilt from. */
export function liveRevocations(db: Db, now: Date): Promise<Array<{ jti: string; expiresAt: Date }>> {
  return db.revokedToken.findMany({ where: { expiresAt: { gt: now } }, select: { jti: true, expiresAt: true } });
}
