import { type DbOrTx, Prisma, type TenantStatus } from "@ipaas/db";

export function listBanks(db: DbOrTx, status: TenantStatus | undefined) {
  return db.tenant.findMany({
    where: { kind: "BANK", deletedAt: null, ...(status ? { status } : {}) },
    orderBy: { createdAt: "asc" },
  });
}

/** A live bank, or null. */
export function findBank(db: DbOrTx, id: string) {
  return db.tenant.findFirst({ where: { id, kind: "BANK", deletedAt: null } });
}

export function updateBank(
  db: DbOrTx,
  id: string,
  data: { status?: TenantStatus; organizationScopes?: string[] | null; organizationSelfRegistration?: boolean },
) {
  const { organizationScopes, ...rest } = data;
  return db.tenant.update({
    where: { id },
    data: {
      ...rest,
      ...(organizationScopes === undefined
        ? {}
        : { organizationScopes: organizationScopes === null ? Prisma.DbNull : organizationScopes }),
    },
  });
}
