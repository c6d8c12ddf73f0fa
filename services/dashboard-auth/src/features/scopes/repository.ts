import { type DbOrTx, Prisma } from "@ipaas/db";
import { newId } from "@ipaas/domain";

export function listScopes(db: DbOrTx) {
  return db.scope.findMany({ orderBy: { name: "asc" } });
}

export async function scopeNames(db: DbOrTx): Promise<string[]> {
  return (await db.scope.findMany({ select: { name: true } })).map((s) => s.name);
}

export function insertScope(db: DbOrTx, data: { name: string; description: string }) {
  return db.scope.create({ data: { id: newId("scp"), ...data } });
}

/** Changes a scope's description; null when there is no such scope. */
export async function describeScope(db: DbOrTx, name: string, description: string) {
  const found = await db.scope.findUnique({ where: { name } });
  if (!found) return null;
  return db.scope.update({ where: { name }, data: { description } });
}

/** Removes a scope from the catalogue; false when there was none. */
export async function deleteScope(db: DbOrTx, name: string): Promise<boolean> {
  return (await db.scope.deleteMany({ where: { name } })).count > 0;
}

/** The banks whose list of organization scopes names this scope. */
export function banksListing(db: DbOrTx, scope: string) {
  return db.tenant.findMany({
    where: { kind: "BANK", organizationScopes: { array_contains: [scope] } },
    select: { id: true, organizationScopes: true },
  });
}

export async function setBankScopeList(db: DbOrTx, bankId: string, list: string[] | null): Promise<void> {
  await db.tenant.update({
    where: { id: bankId },
    data: { organizationScopes: list === null ? Prisma.DbNull : (list as Prisma.InputJsonValue) },
  });
}

/** The live organizations holding this scope. */
export function organizationsHolding(db: DbOrTx, scope: string) {
  return db.tenant.findMany({
    where: { kind: "ORGANIZATION", deletedAt: null, scopes: { has: scope } },
    select: { id: true, scopes: true },
  });
}
