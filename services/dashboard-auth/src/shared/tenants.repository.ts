import type { DbOrTx } from "@ipaas/db";

/** A tenant that has not been deleted, or null. */
export function findLiveTenant(db: DbOrTx, id: string) {
  return db.tenant.findFirst({ where: { id, deletedAt: null } });
}

/** A tenant by id, deleted or not (the caller knows it exists). */
export function findTenant(db: DbOrTx, id: string) {
  return db.tenant.findUniqueOrThrow({ where: { id } });
}
