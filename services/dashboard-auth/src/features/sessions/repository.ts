import type { DbOrTx } from "@ipaas/db";

/** Whether the user completed a sign-in from `ip` since `since` (a familiar address). */
export async function signedInFrom(db: DbOrTx, userId: string, ip: string, since: Date): Promise<boolean> {
  const session = await db.session.findFirst({
    where: { userId, ip, createdAt: { gte: since } },
    select: { id: true },
  });
  return session !== null;
}
