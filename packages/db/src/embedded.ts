import { type Db, registerRawAccess } from "./client";
import { PrismaClient } from "./generated/prisma/client";
import { type MigrateResult, type MigrationSession, migrate } from "./migrator";

/** Postgres in this process, with the Prisma client the services use. */
export interface EmbeddedDatabase {
  db: Db;
  /** Applies the migrations in `dir` with the same migrator a server's database gets. */
  migrate(dir: string): Promise<MigrateResult>;
  close(): Promise<void>;
}

/**
 * Opens Postgres compiled to WebAssembly (PGlite) in this process, behind the Prisma client the services
 * use (through PGlite's Prisma driver adapter), with `runPrepared` and `listen` working on it as on a
 * server. `dataDir` keeps the data across restarts; without it the database lives in memory. One process
 * at a time may open a folder.
 */
export async function openEmbeddedDatabase(dataDir?: string): Promise<EmbeddedDatabase> {
  // Loaded only here: a service on a Postgres server never pays for the WebAssembly build.
  const [{ PGlite }, { PrismaPGlite }] = await Promise.all([
    import("@electric-sql/pglite"),
    import("pglite-prisma-adapter"),
  ]);
  const pglite = await PGlite.create(dataDir);
  const db = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
  registerRawAccess(db, {
    async query<Row>(statement: { text: string }, values: unknown[]) {
      return (await pglite.query<Row>(statement.text, values)).rows;
    },
    // Notifications never leave the process, so the connection is never lost.
    async listen(channel, onNotify, _onError, onConnected) {
      const unlisten = await pglite.listen(channel, () => onNotify());
      onConnected();
      return unlisten;
    },
  });
  const session: MigrationSession = {
    query: async <Row>(text: string, params?: unknown[]) => (await pglite.query<Row>(text, params)).rows,
    exec: async (script) => {
      await pglite.exec(script);
    },
    close: async () => undefined,
  };
  return {
    db,
    migrate: (dir) => migrate(session, dir),
    async close() {
      await db.$disconnect();
      await pglite.close();
    },
  };
}
