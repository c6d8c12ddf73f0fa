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

/** Asked for every partner and user token presented, so prepared once per connection. */
const IS_REVOKED: PreparedStatement = {
  name: "is-revoked",
  text: "SELECT 1 FROM revoked_tokens WHERE jti = $1",
};

export async function isRevoked(db: Db, jti: string): Promise<boolean> {
  return (await runPrepared(db, IS_REVOKED, [jti])).length > 0;
}
