import type { DbOrTx, Tx } from "@ipaas/db";
import type { Channel } from "@ipaas/domain";

const CHANNEL_ENUM = { sms: "SMS", email: "EMAIL", whatsapp: "WHATSAPP" } as const;

export interface NewChallenge {
  id: string;
  tenantId: string;
  channel: Channel;
  destinationHash: string;
  destinationEncrypted: string;
  /** Empty for a notice, which carries no code. */
  codeHash: string;
  codeEncrypted: string | null;
  maxAttempts: number;
  expiresAt: Date;
  ip: string | null;
  purpose?: "SIGN_IN" | "CONTACT_CHANGE" | "NOTICE";
  /** CONTACT_CHANGE and NOTICE: the person it is for. */
  endUserId?: string;
  /** SIGN_IN: the id a new person gets, and the destination encrypted for them. */
  newEndUserId?: string | null;
  newEndUserEncrypted?: string;
}

export async function insertChallenge(tx: Tx, challenge: NewChallenge): Promise<void> {
  await tx.otpChallenge.create({ data: { ...challenge, channel: CHANNEL_ENUM[challenge.channel] } });
}

/**
 * Serialises the sends to one destination of one organization until the transaction ends, so the
 * cooldown and the hourly cap are checked and written by one request at a time.
 */
export async function lockDestination(tx: Tx, tenantId: string, destinationHash: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`otp:${tenantId}:${destinationHash}`}, 0))`;
}

/** When codes went to this destination for this organization since `since`, newest first. */
export async function recentSends(tx: Tx, tenantId: string, destinationHash: string, since: Date): Promise<Date[]> {
  const rows = await tx.otpChallenge.findMany({
    where: { tenantId, destinationHash, createdAt: { gte: since } },
    select: { createdAt: true },
    orderBy: { createdAt: "desc" },
  });
  return rows.map((r) => r.createdAt);
}

/** The latest challenge still open for a destination (the verify call that names the destination). */
export async function latestOpenChallenge(db: DbOrTx, tenantId: string, channel: Channel, destinationHash: string) {
  return db.otpChallenge.findFirst({
    where: { tenantId, channel: CHANNEL_ENUM[channel], destinationHash, consumedAt: null, purpose: "SIGN_IN" },
    select: { id: true },
    orderBy: { createdAt: "desc" },
  });
}

export interface ChallengeAttempt {
  codeHash: string;
  attempts: number;
  channel: "SMS" | "EMAIL" | "WHATSAPP";
  destinationHash: string;
  destinationEncrypted: string;
}

/** Which challenges a verification may use: sign-in codes, or the contact-change codes of one person. */
export type AttemptScope = { purpose: "SIGN_IN" } | { purpose: "CONTACT_CHANGE"; endUserId: string };

/**
 * Counts one try at a challenge of this organization, in `scope`, that is open (not used, not expired, not
 * burned) and returns it, holding its row lock until the transaction ends; null when there is no such
 * challenge. A second verifier of the same code waits here for the first to finish, then finds it used.
 */
export async function countAttempt(
  tx: Tx,
  id: string,
  tenantId: string,
  scope: AttemptScope,
  now: Date,
): Promise<ChallengeAttempt | null> {
  const endUserId = scope.purpose === "CONTACT_CHANGE" ? scope.endUserId : null;
  const rows = await tx.$queryRaw<ChallengeAttempt[]>`
    UPDATE otp_challenges SET attempts = attempts + 1
    WHERE id = ${id} AND "tenantId" = ${tenantId} AND "consumedAt" IS NULL
      AND "expiresAt" > ${now} AND attempts < "maxAttempts"
      AND purpose = ${scope.purpose}::"OtpPurpose" AND "endUserId" IS NOT DISTINCT FROM ${endUserId}
    RETURNING "codeHash", attempts, channel::text AS channel, "destinationHash", "destinationEncrypted"`;
  return rows[0] ?? null;
}

export async function markConsumed(tx: Tx, id: string, now: Date): Promise<void> {
  await tx.otpChallenge.update({ where: { id }, data: { consumedAt: now, codeEncrypted: null } });
}

/** What the organization may know of one of its requests: the delivery state, never the destination. */
export async function findDeliveryState(db: DbOrTx, id: string, tenantId: string) {
  return db.otpChallenge.findFirst({
    where: { id, tenantId },
    select: { id: true, channel: true, deliveryStatus: true, createdAt: true, sentAt: true, expiresAt: true },
  });
}

export interface LeasedDelivery {
  tenantId: string;
  channel: "SMS" | "EMAIL" | "WHATSAPP";
  purpose: "SIGN_IN" | "CONTACT_CHANGE" | "NOTICE";
  destinationEncrypted: string;
  /** Null for a notice. */
  codeEncrypted: string | null;
  expiresAt: Date;
  deliveryAttempts: number;
}

/**
 * Starts a delivery attempt: counts it and leases the request until `leaseUntil`, so no other worker
 * starts one meanwhile. Null when the request is not waiting for delivery or another worker holds it.
 */
export async function leaseDelivery(
  db: DbOrTx,
  id: string,
  now: Date,
  leaseUntil: Date,
): Promise<LeasedDelivery | null> {
  const rows = await db.$queryRaw<LeasedDelivery[]>`
    UPDATE otp_challenges SET "deliveryAttempts" = "deliveryAttempts" + 1, "deliveryLeaseUntil" = ${leaseUntil}
    WHERE id = ${id} AND "deliveryStatus" = 'QUEUED' AND ("codeEncrypted" IS NOT NULL OR purpose = 'NOTICE')
      AND ("deliveryLeaseUntil" IS NULL OR "deliveryLeaseUntil" < ${now})
    RETURNING "tenantId", channel::text AS channel, purpose::text AS purpose, "destinationEncrypted",
      "codeEncrypted", "expiresAt", "deliveryAttempts"`;
  return rows[0] ?? null;
}

/** Whether a request still waits for a delivery (another worker may be holding it). */
export async function awaitsDelivery(db: DbOrTx, id: string): Promise<boolean> {
  const row = await db.otpChallenge.findUnique({
    where: { id },
    select: { deliveryStatus: true, codeEncrypted: true },
  });
  return row?.deliveryStatus === "QUEUED" && row.codeEncrypted !== null;
}

export async function markSent(db: DbOrTx, id: string, now: Date): Promise<void> {
  await db.otpChallenge.update({
    where: { id },
    data: { deliveryStatus: "SENT", sentAt: now, codeEncrypted: null, deliveryLeaseUntil: null, deliveryError: null },
  });
}

/** A try that failed: the lease ends, and the request fails for good when `final`. */
export async function recordDeliveryFailure(db: DbOrTx, id: string, reason: string, final: boolean): Promise<void> {
  await db.otpChallenge.update({
    where: { id },
    data: {
      deliveryError: reason,
      deliveryLeaseUntil: null,
      ...(final ? { deliveryStatus: "FAILED" as const, codeEncrypted: null } : {}),
    },
  });
}
