import type { DbOrTx, Prisma } from "@ipaas/db";

/** A tenant that has not been deleted, or null. */
export function findLiveTenant(db: DbOrTx, id: string) {
  return db.tenant.findFirst({ where: { id, deletedAt: null } });
}

/** A tenant by id, deleted or not (the caller knows it exists). */
export function findTenant(db: DbOrTx, id: string) {
  return db.tenant.findUniqueOrThrow({ where: { id } });
}

export function insertTenant(db: DbOrTx, data: Prisma.TenantUncheckedCreateInput) {
  return db.tenant.create({ data });
}

export async function insertRoles(
  db: DbOrTx,
  roles: Array<{ id: string; tenantId: string; name: string; rank: number; isSystem: boolean }>,
): Promise<void> {
  await db.role.createMany({ data: roles });
}

/** The platform owner's tenant, if it has been created. */
export function findMainTenant(db: DbOrTx) {
  return db.tenant.findFirst({ where: { kind: "MAIN" } });
}
