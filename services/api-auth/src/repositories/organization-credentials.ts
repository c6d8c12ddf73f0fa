import type { DbOrTx } from "@ipaas/db";
import { otpSettingsOf } from "@ipaas/domain";
import { isSigningAlgorithm } from "@ipaas/service-kit";
import type { ClientRecord } from "../domain/clients";

interface ClientRow {
  organizationId: string;
  clientKey: string;
  secretHash: string;
  previousSecretHash: string | null;
  previousSecretExpiresAt: Date | null;
  version: number;
  tokensNotBefore: Date | null;
  status: string;
  scopes: string[] | null;
  organizationVersion: number;
  deletedAt: Date | null;
  otpChannels: string[];
  otpSettings: unknown;
  tokenSigningAlg: string;
}

/**
 * The client with this key: its credential joined with its organization, in one round trip (the
 * token endpoint's only query on a cache miss). Only organizations have credentials; the kind is checked
 * anyway so a bank can never pose as a client.
 */
export async function findClientByKey(db: DbOrTx, clientKey: string): Promise<ClientRecord | null> {
  const rows = await db.$queryRaw<ClientRow[]>`
    SELECT c."tenantId" AS "organizationId", c."clientKey", c."secretHash", c."previousSecretHash",
           c."previousSecretExpiresAt", c."version", c."tokensNotBefore",
           t."status"::text AS "status", t."scopes", t."version" AS "organizationVersion", t."deletedAt",
           t."otpChannels"::text[] AS "otpChannels", t."otpSettings", t."tokenSigningAlg"
      FROM "organization_credentials" c
      JOIN "tenants" t ON t."id" = c."tenantId"
     WHERE c."clientKey" = ${clientKey} AND t."kind" = 'ORGANIZATION'`;
  const row = rows[0];
  if (row === undefined) return null;
  return {
    organizationId: row.organizationId,
    clientKey: row.clientKey,
    secretHash: row.secretHash,
    previousSecretHash: row.previousSecretHash,
    previousSecretExpiresAt: row.previousSecretExpiresAt,
    version: row.version,
    organizationVersion: row.organizationVersion,
    scopes: row.scopes ?? [],
    status: row.status === "ACTIVE" || row.status === "PENDING" ? row.status : "SUSPENDED",
    deleted: row.deletedAt !== null,
    tokensNotBefore: row.tokensNotBefore,
    otp: otpSettingsOf({ otpChannels: row.otpChannels ?? [], otpSettings: row.otpSettings }),
    // The column's check constraint allows only these; anything else would be a hand edit: the default.
    signingAlg: isSigningAlgorithm(row.tokenSigningAlg) ? row.tokenSigningAlg : "EdDSA",
  };
}

/** An organization's one-time-code settings and name. */
export async function findOtpOrganization(db: DbOrTx, organizationId: string) {
  return db.tenant.findFirst({
    where: { id: organizationId, kind: "ORGANIZATION", deletedAt: null },
    select: { name: true, otpChannels: true, otpSettings: true },
  });
}

/** Every app origin an active organization lists in its one-time-code settings. */
export async function findAppOrigins(db: DbOrTx): Promise<string[]> {
  const rows = await db.$queryRaw<Array<{ origin: string }>>`
    SELECT DISTINCT jsonb_array_elements_text(t."otpSettings"->'appOrigins') AS origin
      FROM "tenants" t
     WHERE t."kind" = 'ORGANIZATION' AND t."status" = 'ACTIVE' AND t."deletedAt" IS NULL
       AND jsonb_typeof(t."otpSettings"->'appOrigins') = 'array'`;
  return rows.map((r) => r.origin);
}
