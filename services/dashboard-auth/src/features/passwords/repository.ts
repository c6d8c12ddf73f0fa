import type { DbOrTx } from "@ipaas/db";
import { newId } from "@ipaas/domain";
import { sha256Hex } from "@ipaas/service-kit";

/** The user whose password is being checked or changed. */
export function findUserById(db: DbOrTx, id: string) {
  return db.user.findUniqueOrThrow({ where: { id } });
}

/** The user with this id, or null (an id from a token may name a user since deleted for good). */
export function findUserOrNull(db: DbOrTx, id: string) {
  return db.user.findUnique({ where: { id } });
}

export function findUserByEmail(db: DbOrTx, email: string) {
  return db.user.findUnique({ where: { email } });
}

export async function setPasswordHash(db: DbOrTx, userId: string, passwordHash: string, at: Date): Promise<void> {
  await db.user.update({ where: { id: userId }, data: { passwordHash, passwordChangedAt: at } });
}

/**
 * Replaces the stored hash by another of the same password (a newer form), if it is still `from`: a password
 * changed meanwhile stays changed. Not a change of password, so `passwordChangedAt` stays.
 */
export async function replacePasswordHash(db: DbOrTx, userId: string, from: string, to: string): Promise<boolean> {
  const replaced = await db.user.updateMany({ where: { id: userId, passwordHash: from }, data: { passwordHash: to } });
  return replaced.count === 1;
}

/** Stores a single-use reset token by its hash. */
export async function insertResetToken(db: DbOrTx, userId: string, token: string, expiresAt: Date): Promise<void> {
  await db.passwordResetToken.create({
    data: { id: newId("pwr"), userId, tokenHash: sha256Hex(token), expiresAt },
  });
}

export function findResetToken(db: DbOrTx, token: string) {
  return db.passwordResetToken.findUnique({ where: { tokenHash: sha256Hex(token) }, include: { user: true } });
}

/**
 * Marks the token used if nobody has yet, then every other open token of the user: only one of two racing
 * resets with the same token gets `true`.
 */
export async function claimResetToken(db: DbOrTx, token: { id: string; userId: string }, at: Date): Promise<boolean> {
  const claimed = await db.passwordResetToken.updateMany({
    where: { id: token.id, usedAt: null },
    data: { usedAt: at },
  });
  if (claimed.count !== 1) return false;
  await db.passwordResetToken.updateMany({ where: { userId: token.userId, usedAt: null }, data: { usedAt: at } });
  return true;
}
