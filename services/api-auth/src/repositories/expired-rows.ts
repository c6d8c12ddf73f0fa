import type { DbOrTx } from "@ipaas/db";

/** How long a spent challenge stays, so its delivery state can still be asked for. */
const CHALLENGE_KEPT_MS = 86_400_000;
/** The longest send-limit window is a day; a counter is kept a day past it. */
const COUNTER_KEPT_MS = 2 * 86_400_000;

/**
 * Deletes rows that can no longer change an answer: revocations and used DPoP proofs past the expiry of
 * what they name, send counters of ended windows, challenges a day past their expiry. Returns the counts.
 */
export async function deleteExpiredRows(db: DbOrTx, now: Date) {
  const at = now.getTime();
  const [revocations, proofs, counters, challenges] = [
    await db.revokedToken.deleteMany({ where: { expiresAt: { lt: now } } }),
    await db.usedProof.deleteMany({ where: { expiresAt: { lt: now } } }),
    await db.sendCounter.deleteMany({ where: { windowStart: { lt: new Date(at - COUNTER_KEPT_MS) } } }),
    await db.otpChallenge.deleteMany({ where: { expiresAt: { lt: new Date(at - CHALLENGE_KEPT_MS) } } }),
  ];
  return {
    revocations: revocations.count,
    proofs: proofs.count,
    counters: counters.count,
    challenges: challenges.count,
  };
}
