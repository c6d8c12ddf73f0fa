import { type DbOrTx, Prisma, type TenantStatus } from "@ipaas/db";
import type { OtpBounds } from "@ipaas/domain";

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

/** The bank's live organizations, with what its terms bound: their scopes and one-time-code settings. */
export function organizationsOf(db: DbOrTx, bankId: string) {
  return db.tenant.findMany({
    where: { kind: "ORGANIZATION", deletedAt: null, bankId },
    select: { id: true, scopes: true, otpChannels: true, otpSettings: true },
  });
}

export function updateBank(
  db: DbOrTx,
  id: string,
  data: {
    status?: TenantStatus;
    organizationScopes?: string[] | null;
    organizationSelfRegistration?: boolean;
    organizationOtp?: OtpBounds | null;
  },
) {
  const { organizationScopes, organizationOtp, ...rest } = data;
  return db.tenant.update({
    where: { id },
    data: {
      ...rest,
      ...(organizationScopes === undefined ? {} : { organizationScopes: jsonOrNull(organizationScopes) }),
      ...(organizationOtp === undefined ? {} : { organizationOtp: jsonOrNull(organizationOtp) }),
    },
  });
}

/** A JSON column's value; null stores SQL NULL. */
function jsonOrNull(value: Prisma.InputJsonValue | null) {
  return value === null ? Prisma.DbNull : value;
}
