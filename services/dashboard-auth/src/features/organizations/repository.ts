import type { DbOrTx, Prisma, TenantStatus } from "@ipaas/db";

const organizationInclude = { credential: true } satisfies Prisma.TenantInclude;
export type OrganizationRow = Prisma.TenantGetPayload<{ include: typeof organizationInclude }>;

/** A live (not deleted) organization with its credential, or null. */
export function findOrganization(db: DbOrTx, id: string): Promise<OrganizationRow | null> {
  return db.tenant.findFirst({ where: { id, kind: "ORGANIZATION", deletedAt: null }, include: organizationInclude });
}

/** Changes an organization's cached facts and bumps its version (what api-auth compares events with). */
/** What may change of an organization in one update. */
export interface OrganizationUpdate {
  name?: string;
  scopes?: string[];
  phone?: string;
  status?: TenantStatus;
  otpChannels?: string[];
  otpSettings?: Record<string, unknown>;
  tokenSigningAlg?: string;
}

export function updateOrganization(db: DbOrTx, id: string, data: OrganizationUpdate) {
  const { otpSettings, ...columns } = data;
  return db.tenant.update({
    where: { id },
    data: {
      ...columns,
      ...(otpSettings ? { otpSettings: otpSettings as Prisma.InputJsonObject } : {}),
      version: { increment: 1 },
    },
  });
}

export function markOrganizationDeleted(db: DbOrTx, id: string, at: Date) {
  return db.tenant.update({ where: { id }, data: { deletedAt: at, version: { increment: 1 } } });
}

export interface SecretSwap {
  secretHash: string;
  /** Until when the replaced secret still works; null: it stops at once. */
  graceUntil: Date | null;
  /** Tokens issued before this become inactive; null keeps the current cut-off. */
  tokensNotBefore: Date | null;
  at: Date;
}

/**
 * Swaps the secret hashes and bumps the credential version in one statement, so two rotations racing each
 * other serialize on the row and end with distinct versions. Null when the organization has no credential.
 */
export async function swapClientSecret(db: DbOrTx, organizationId: string, swap: SecretSwap) {
  const { secretHash, graceUntil, tokensNotBefore, at } = swap;
  const rows = await db.$queryRaw<Array<{ clientKey: string; version: number; tokensNotBefore: Date | null }>>`
      UPDATE "organization_credentials"
         SET "previousSecretHash" = CASE WHEN ${graceUntil}::timestamptz IS NULL THEN NULL ELSE "secretHash" END,
             "previousSecretExpiresAt" = ${graceUntil}::timestamptz,
             "secretHash" = ${secretHash},
             "version" = "version" + 1,
             "tokensNotBefore" = COALESCE(${tokensNotBefore}::timestamptz, "tokensNotBefore"),
             "rotatedAt" = ${at},
             "updatedAt" = ${at}
       WHERE "tenantId" = ${organizationId}
   RETURNING "clientKey", "version", "tokensNotBefore"`;
  return rows[0] ?? null;
}
