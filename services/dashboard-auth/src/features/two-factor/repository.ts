import type { DbOrTx } from "@ipaas/db";
import { newId } from "@ipaas/domain";

export function findEnrolment(db: DbOrTx, userId: string) {
  return db.totpEnrolment.findUnique({ where: { userId } });
}

/** Starts (or restarts) an enrolment with a new encrypted secret; everything the old one counted is reset. */
export async function startEnrolment(db: DbOrTx, userId: string, secretEncrypted: string): Promise<void> {
  await db.totpEnrolment.upsert({
    where: { userId },
    create: { id: newId("totp"), userId, secretEncrypted },
    update: { secretEncrypted, lastUsedStep: null, failedAttempts: 0, disabledAt: null },
  });
}

/** Confirms the enrolment and replaces the user's recovery codes with these (keyed hashes). */
export async function confirmEnrolment(db: DbOrTx, userId: string, recoveryCodeHashes: string[]): Promise<void> {
  await db.totpEnrolment.update({ where: { userId }, data: { confirmedAt: new Date(), failedAttempts: 0 } });
  await db.recoveryCode.deleteMany({ where: { userId } });
  await db.recoveryCode.createMany({
    data: recoveryCodeHashes.map((codeHash) => ({ id: newId("rcv"), userId, codeHash })),
  });
}

/** Uses an unused recovery code; true only for the one request that used it. */
export async function useRecoveryCode(db: DbOrTx, userId: string, codeHash: string): Promise<boolean> {
  const used = await db.recoveryCode.updateMany({
    where: { userId, codeHash, usedAt: null },
    data: { usedAt: new Date() },
  });
  return used.count === 1;
}

/** Removes the user's authenticator and recovery codes. */
export async function deleteEnrolment(db: DbOrTx, userId: string): Promise<void> {
  await db.totpEnrolment.deleteMany({ where: { userId } });
  await db.recoveryCode.deleteMany({ where: { userId } });
}

/** Claims a TOTP time step if it is later than the last one used: a replay, even in parallel, gets false. */
export async function claimTimeStep(db: DbOrTx, userId: string, step: bigint): Promise<boolean> {
  const claimed = await db.totpEnrolment.updateMany({
    where: { userId, OR: [{ lastUsedStep: null }, { lastUsedStep: { lt: step } }] },
    data: { lastUsedStep: step },
  });
  return claimed.count === 1;
}

export async function clearFailures(db: DbOrTx, userId: string): Promise<void> {
  await db.totpEnrolment.update({ where: { userId }, data: { failedAttempts: 0 } });
}

export function countFailure(db: DbOrTx, userId: string) {
  return db.totpEnrolment.update({ where: { userId }, data: { failedAttempts: { increment: 1 } } });
}

/** Disables the authenticator unless it already is; true for the one request that disabled it. */
export async function disableEnrolment(db: DbOrTx, userId: string): Promise<boolean> {
  const disabled = await db.totpEnrolment.updateMany({
    where: { userId, disabledAt: null },
    data: { disabledAt: new Date() },
  });
  return disabled.count === 1;
}
