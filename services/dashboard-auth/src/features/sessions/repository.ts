import type { DbOrTx } from "@ipaas/db";

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
