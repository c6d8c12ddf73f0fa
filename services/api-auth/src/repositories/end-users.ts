import type { DbOrTx, Tx } from "@ipaas/db";

export interface ContactKey {
  kind: "phone" | "email";
  hash: string;
}

/** The person with this phone number or email (by its keyed hash), or null. */
export async function findEndUserByContact(db: DbOrTx, contact: ContactKey) {
  return db.endUser.findUnique({
    where: contact.kind === "phone" ? { phoneHash: contact.hash } : { emailHash: contact.hash },
    select: { id: true, status: true },
  });
}

/**
 * The person with this contact, created with it when there is none. Two first verifications of one
 * person at once make one person: the loser of the unique index reads the winner's row.
 */
export async function findOrCreateEndUser(
  tx: Tx,
  contact: ContactKey,
  created: { id: string; encrypted: string },
): Promise<{ id: string; status: string }> {
  const column = contact.kind === "phone" ? { phoneHash: contact.hash } : { emailHash: contact.hash };
  const value =
    contact.kind === "phone" ? { phoneEncrypted: created.encrypted } : { emailEncrypted: created.encrypted };
  await tx.endUser.createMany({ data: [{ id: created.id, ...column, ...value }], skipDuplicates: true });
  return tx.endUser.findUniqueOrThrow({ where: column, select: { id: true, status: true } });
}

/** The organization's userId for a person, made on their first verification there. */
export async function findOrCreateSubject(
  tx: Tx,
  endUserId: string,
  tenantId: string,
  newSubjectId: string,
): Promise<{ id: string; created: boolean }> {
  await tx.pairwiseSubject.createMany({ data: [{ id: newSubjectId, endUserId, tenantId }], skipDuplicates: true });
  const row = await tx.pairwiseSubject.findUniqueOrThrow({
    where: { endUserId_tenantId: { endUserId, tenantId } },
    select: { id: true },
  });
  return { id: row.id, created: row.id === newSubjectId };
}

/**
 * The organization forgets its user: the pairwise link goes, and the person with it when no organization
 * links to them any more. Returns whether there was such a user.
 */
export async function forgetSubject(tx: Tx, subjectId: string, tenantId: string): Promise<boolean> {
  const subject = await tx.pairwiseSubject.findFirst({
    where: { id: subjectId, tenantId },
    select: { endUserId: true },
  });
  if (!subject) return false;
  await tx.pairwiseSubject.delete({ where: { id: subjectId } });
  const remaining = await tx.pairwiseSubject.count({ where: { endUserId: subject.endUserId } });
  if (remaining === 0) await tx.endUser.delete({ where: { id: subject.endUserId } });
  return true;
}

/** The person behind an organization's user, with their encrypted contact and name. */
export async function findProfile(db: DbOrTx, subjectId: string, tenantId: string) {
  return db.pairwiseSubject.findFirst({
    where: { id: subjectId, tenantId },
    select: {
      id: true,
      createdAt: true,
      endUser: {
        select: {
          id: true,
          status: true,
          tokensNotBefore: true,
          nameEncrypted: true,
          phoneEncrypted: true,
          emailEncrypted: true,
        },
      },
    },
  });
}

export async function updateName(db: DbOrTx, endUserId: string, nameEncrypted: string): Promise<void> {
  await db.endUser.update({ where: { id: endUserId }, data: { nameEncrypted } });
}

/**
 * Sets a person's phone number or email (its keyed hash and ciphertext); returns the ciphertext it
 * replaced, or null when the person had none.
 */
export async function replaceContact(
  tx: Tx,
  endUserId: string,
  kind: "phone" | "email",
  contact: { hash: string; encrypted: string },
): Promise<string | null> {
  const before = await tx.endUser.findUniqueOrThrow({
    where: { id: endUserId },
    select: { phoneEncrypted: true, emailEncrypted: true },
  });
  await tx.endUser.update({
    where: { id: endUserId },
    data:
      kind === "phone"
        ? { phoneHash: contact.hash, phoneEncrypted: contact.encrypted }
        : { emailHash: contact.hash, emailEncrypted: contact.encrypted },
  });
  return kind === "phone" ? before.phoneEncrypted : before.emailEncrypted;
}
