import type { DbOrTx } from "@ipaas/db";

/** Records a DPoP proof as used: false when it was used before (a replay). */
export async function recordProofUse(db: DbOrTx, key: string, expiresAt: Date): Promise<boolean> {
  const { count } = await db.usedProof.createMany({ data: [{ key, expiresAt }], skipDuplicates: true });
  return count === 1;
}
