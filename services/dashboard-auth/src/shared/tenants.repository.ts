import type { DbOrTx, Prisma, Tx } from "@ipaas/db";

/** A tenant that has not been deleted, or null. */
export function findLiveTenant(db: DbOrTx, id: string) {
  return db.tenant.findFirst({ where: { id, deletedAt: null } });
}

/** A tenant by id, deleted or not (the caller knows it exists). */
export function findTenant(db: DbOrTx, id: string) {
  return db.tenant.findUniqueOrThrow({ where: { id } });
}

/**
 * Reads a tenant and locks its row until the transaction ends: `share` to rely on it (a bank's terms while
 * one of its organizations changes), `update` to change it from what was read (no lost update).
 */
export async function lockTenant(tx: Tx, id: string, mode: "share" | "update") {
  await (mode === "share"
    ? tx.$executeRaw`SELECT 1 FROM tenants WHERE id = ${id} FOR SHARE`
    : tx.$executeRaw`SELECT 1 FROM tenants WHERE id = ${id} FOR UPDATE`);
  return tx.tenant.findUniqueOrThrow({ where: { id } });
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
