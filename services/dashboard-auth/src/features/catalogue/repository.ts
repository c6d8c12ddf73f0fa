import type { DbOrTx } from "@ipaas/db";
import { newId } from "@ipaas/domain";

export function listTenantRoles(db: DbOrTx, tenantId: string) {
  return db.role.findMany({ where: { tenantId, deletedAt: null }, orderBy: [{ rank: "asc" }, { createdAt: "asc" }] });
}

/** A live role with its tenant, or null. */
export function findLiveRole(db: DbOrTx, id: string) {
  return db.role.findFirst({ where: { id, deletedAt: null }, include: { tenant: true } });
}

/** Whether the tenant has a role of this name, whatever its case. */
export async function roleNameTaken(db: DbOrTx, tenantId: string, name: string): Promise<boolean> {
  const role = await db.role.findFirst({ where: { tenantId, name: { equals: name, mode: "insensitive" } } });
  return role !== null;
}

export function insertRole(db: DbOrTx, data: { tenantId: string; name: string; rank: number }) {
  return db.role.create({ data: { id: newId("rol"), ...data } });
}

export function countRoleHolders(db: DbOrTx, roleId: string): Promise<number> {
  return db.user.count({ where: { roleId, deletedAt: null } });
}

/** Soft-deletes a role and frees its name for reuse; the row stays for the audit trail. */
export async function markRoleDeleted(db: DbOrTx, role: { id: string; name: string }, at: Date): Promise<void> {
  await db.role.update({ where: { id: role.id }, data: { deletedAt: at, name: `${role.name}#deleted:${role.id}` } });
}

export function listLiveModules(db: DbOrTx) {
  return db.module.findMany({ where: { deletedAt: null }, orderBy: { createdAt: "asc" } });
}

export function findLiveModule(db: DbOrTx, id: string) {
  return db.module.findFirst({ where: { id, deletedAt: null } });
}

export async function moduleSlugTaken(db: DbOrTx, slug: string): Promise<boolean> {
  return (await db.module.findUnique({ where: { slug } })) !== null;
}

export function insertModule(db: DbOrTx, data: { name: string; slug: string }) {
  return db.module.create({ data: { id: newId("mod"), ...data } });
}

export async function renameModule(db: DbOrTx, id: string, name: string): Promise<void> {
  await db.module.update({ where: { id }, data: { name } });
}

/** Soft-deletes a module and frees its slug for reuse; the row stays for the audit trail. */
export async function markModuleDeleted(db: DbOrTx, module: { id: string; slug: string }, at: Date): Promise<void> {
  await db.module.update({
    where: { id: module.id },
    data: { deletedAt: at, slug: `${module.slug}#deleted:${module.id}` },
  });
}
