// Postgres faults at a chosen point of a service's work, through a connection of the test's own that goes
// straight to the server (the services reach it through a TcpProxy the test controls).
import type { Db } from "@ipaas/db";
import { type TcpProxy, waitFor } from "@ipaas/testing";

export interface HeldStatement {
  /** Resolves once a service's statement is held (the trigger is sleeping in that session). */
  reached(): Promise<void>;
  remove(): Promise<void>;
}

/**
 * Holds the first UPDATE of `table` whose rows match `when` (a condition on OLD and NEW) in the session
 * that runs it, for a minute, so the test can act while that transaction is open. Later updates pass: the
 * count is a sequence, which a rollback does not undo.
 */
export async function holdFirstUpdate(db: Db, name: string, table: string, when: string): Promise<HeldStatement> {
  const [sequence, fn] = [`${name}_count`, `${name}_hold`];
  await db.$executeRawUnsafe(`CREATE SEQUENCE "${sequence}"`);
  await db.$executeRawUnsafe(`
    CREATE FUNCTION "${fn}"() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF (${when}) AND nextval('"${sequence}"') = 1 THEN
        PERFORM pg_sleep(60);
      END IF;
      RETURN NEW;
    END $$`);
  await db.$executeRawUnsafe(
    `CREATE TRIGGER "${fn}" BEFORE UPDATE ON "${table}" FOR EACH ROW EXECUTE FUNCTION "${fn}"()`,
  );
  return {
    reached: () =>
      waitFor(
        `an update of ${table} to be held`,
        async () =>
          (
            await db.$queryRaw<{ n: number }[]>`
              SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event = 'PgSleep'`
          )[0]?.n === 1,
        15_000,
      ).then(() => undefined),
    async remove() {
      await db.$executeRawUnsafe(`DROP TRIGGER IF EXISTS "${fn}" ON "${table}"`);
      await db.$executeRawUnsafe(`DROP FUNCTION IF EXISTS "${fn}"()`);
      await db.$executeRawUnsafe(`DROP SEQUENCE IF EXISTS "${sequence}"`);
    },
  };
}

/**
 * A crash of Postgres as the services see it: every connection through `proxy` drops and every other
 * session of the database ends, its open transaction rolled back. The proxy serves again after `during`.
 */
export async function crashPostgres(db: Db, proxy: TcpProxy, during: () => Promise<void> = async () => {}) {
  await proxy.stop();
  await db.$queryRaw`
    SELECT pg_terminate_backend(pid) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()`;
  await during();
  await proxy.start();
}
