import { type DbOrTx, Prisma } from "@ipaas/db";

/**
 * How a gate slows guessing: `freeAttempts` attempts pass at once, the last of them closing the gate for
 * `firstDelayMs`; each attempt after that closes it for twice as long, up to `maxDelayMs`. A gate untouched for
 * `forgetAfterMs` starts counting afresh.
 */
export interface GatePolicy {
  freeAttempts: number;
  firstDelayMs: number;
  maxDelayMs: number;
  forgetAfterMs: number;
}

export type GateOutcome = { passed: true; attempts: number } | { passed: false; retryAfterMs: number };

/**
 * When the gate opens again after its `attempts`-th attempt: at once ('epoch') while attempts are free,
 * otherwise after a delay. An open gate is stored as open rather than as "now", so concurrent attempts
 * whose clocks disagree by a millisecond never see each other's free attempt as a closed gate.
 */
function reopensAt(attempts: Prisma.Sql, now: Date, policy: GatePolicy): Prisma.Sql {
  return Prisma.sql`(CASE WHEN ${attempts} < ${policy.freeAttempts}::int THEN 'epoch'::timestamptz
    ELSE ${now}::timestamptz + LEAST(${policy.firstDelayMs}::float8 * power(2, ${attempts} - ${policy.freeAttempts}::int),
                                      ${policy.maxDelayMs}::float8) * interval '1 millisecond' END)`;
}

/**
 * Counts one attempt on `key` if, and only if, its gate is open, in one statement: the count and the
 * decision cannot be separated by a concurrent attempt, so parallel guesses are counted one by one and
 * the ones that find the gate closed never reach the password check.
 */
export async function passGate(db: DbOrTx, key: string, policy: GatePolicy, now: Date): Promise<GateOutcome> {
  const forgetBefore = new Date(now.getTime() - policy.forgetAfterMs);
  const next = Prisma.sql`(CASE WHEN g."updatedAt" < ${forgetBefore}::timestamptz THEN 1 ELSE g."attempts" + 1 END)`;
  const rows = await db.$queryRaw<Array<{ attempts: number }>>`
    INSERT INTO "attempt_gates" AS g ("key", "attempts", "nextAttemptAt", "updatedAt")
    VALUES (${key}, 1, ${reopensAt(Prisma.sql`1`, now, policy)}, ${now}::timestamptz)
    ON CONFLICT ("key") DO UPDATE SET
      "attempts" = ${next},
      "nextAttemptAt" = ${reopensAt(next, now, policy)},
      "updatedAt" = EXCLUDED."updatedAt"
    WHERE g."nextAttemptAt" <= EXCLUDED."updatedAt"
    RETURNING g."attempts"`;
  const row = rows[0];
  if (row) return { passed: true, attempts: row.attempts };
  const gate = await db.attemptGate.findUnique({ where: { key }, select: { nextAttemptAt: true } });
  return { passed: false, retryAfterMs: Math.max(0, (gate?.nextAttemptAt.getTime() ?? now.getTime()) - now.getTime()) };
}

/**
 * Opens the gates and forgets their counts (after a success). Their rows are locked in the order of `keys`,
 * the order attempts pass them in: a reset and a concurrent attempt on the same gates then wait for each
 * other instead of deadlocking.
 */
export async function resetGates(db: DbOrTx, keys: string[]): Promise<void> {
  await db.$executeRaw`
    WITH locked AS (
      SELECT g."key" FROM "attempt_gates" g
       WHERE g."key" = ANY(${keys}::text[])
       ORDER BY array_position(${keys}::text[], g."key")
         FOR UPDATE)
    DELETE FROM "attempt_gates" g USING locked WHERE g."key" = locked."key"`;
}

/** Drops gates nobody has touched since `before`; they would count afresh anyway. */
export async function sweepGates(db: DbOrTx, before: Date): Promise<number> {
  const { count } = await db.attemptGate.deleteMany({ where: { updatedAt: { lt: before } } });
  return count;
}
