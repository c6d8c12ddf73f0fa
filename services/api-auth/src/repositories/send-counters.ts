import type { DbOrTx } from "@ipaas/db";

/**
 * Takes one from the counter `key` for the window starting at `windowStart`, unless `limit` are taken
 * already: one statement, so instances sharing the database cannot both take the last one. Returns
 * whether it was taken. Inside a transaction that later fails, the take is undone with it.
 */
export async function takeFromCounter(db: DbOrTx, key: string, windowStart: Date, limit: number): Promise<boolean> {
  const rows = await db.$queryRaw<Array<{ count: number }>>`
    INSERT INTO send_counters (key, "windowStart", count) VALUES (${key}, ${windowStart}, 1)
    ON CONFLICT (key, "windowStart") DO UPDATE SET count = send_counters.count + 1
      WHERE send_counters.count < ${limit}
    RETURNING count`;
  return rows.length > 0 && limit > 0;
}
