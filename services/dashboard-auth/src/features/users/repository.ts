import type { DbOrTx, Prisma, UserStatus } from "@ipaas/db";
import { newId } from "@ipaas/domain";

const userInclude = {
  role: true,
  tenant: true,
  permissions: { include: { module: true }, where: { module: { deletedAt: null } } },
} satisfies Prisma.UserInclude;
/** A user with their role, tenant and current (undeleted modules') permission rows. */
export type UserRow = Prisma.UserGetPayload<{ include: typeof userInclude }>;

export interface PermissionRow {
  moduleId: string;
  allowRead: boolean;
  allowCreate: boolean;
  allowUpdate: boolean;
  allowDelete: boolean;
}

export function listTenantUsers(db: DbOrTx, tenantId: string, page: { offset: number; limit: number }) {
  return db.user.findMany({
    where: { tenantId, deletedAt: null },
    include: userInclude,
    orderBy: { createdAt: "asc" },
    skip: page.offset,
    take: page.limit,
  });
}

export function findUser(db: DbOrTx, id: string): Promise<UserRow> {
  return db.user.findUniqueOrThrow({ where: { id }, include: userInclude });
}

/** A user that has not been deleted, or null. */
export function findLiveUser(db: DbOrTx, id: string): Promise<UserRow | null> {
  return db.user.findFirst({ where: { id, deletedAt: null }, include: userInclude });
}

export async function emailInUse(db: DbOrTx, email: string): Promise<boolean> {
  return (await db.user.findUnique({ where: { email }, select: { id: true } })) !== null;
}

export function insertUser(
  db: DbOrTx,
  data: {
    tenantId: string;
    email: string;
    name: string;
    passwordHash: string;
    roleId: string;
    internal?: boolean;
    head?: boolean;
    createdById?: string | null;
  },
) {
  return db.user.create({ data: { id: newId("usr"), ...data } });
}

export async function updateUser(
  db: DbOrTx,
  id: string,
  data: { name?: string; roleId?: string; status?: UserStatus; deletedAt?: Date },
): Promise<void> {
  await db.user.update({ where: { id }, data });
}

/** Replaces a user's permission rows with `rows`. */
export async function replacePermissions(db: DbOrTx, userId: string, rows: PermissionRow[]): Promise<void> {
  await db.userPermission.deleteMany({ where: { userId } });
  if (rows.length === 0) return;
  await db.userPermission.createMany({ data: rows.map((row) => ({ id: newId("perm"), userId, ...row })) });
}

/** How many active, undeleted users other than `leaving` hold this role. */
export function countOtherHolders(db: DbOrTx, roleId: string, leaving: string[]): Promise<number> {
  return db.user.count({ where: { roleId, deletedAt: null, status: "ACTIVE", id: { notIn: leaving } } });
}

/** A live role of this tenant, or null. */
export function findTenantRole(db: DbOrTx, tenantId: string, roleId: string) {
  return db.role.findFirst({ where: { id: roleId, tenantId, deletedAt: null } });
}

/** The live modules' slugs, or the ids of those with the given slugs. */
export function liveModules(db: DbOrTx, slugs?: string[]) {
  return db.module.findMany({
    where: { deletedAt: null, ...(slugs ? { slug: { in: slugs } } : {}) },
    select: { id: true, slug: true },
  });
}
