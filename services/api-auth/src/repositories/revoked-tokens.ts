import type { DbOrTx } from "@ipaas/db";

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

export async function isRevoked(db: DbOrTx, jti: string): Promise<boolean> {
  const row = await db.revokedToken.findUnique({ where: { jti }, select: { jti: true } });
  return row !== null;
}
