import { readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { createDb, type Db, registerRawAccess } from "./client";
import { PrismaClient } from "./generated/prisma/client";
import { type MigrateResult, type MigrationSession, migrate } from "./migrator";
import { embeddedDataDir, migrationsDir } from "./paths";

/** Postgres in this process, with the Prisma client the services use. */
export interface EmbeddedDatabase {
  db: Db;
  /** Applies the migrations in `dir` with the same migrator a server's database gets. */
  migrate(dir: string): Promise<MigrateResult>;
  close(): Promise<void>;
}

/** Another live process has the embedded database's folder open. */
export class EmbeddedDatabaseBusy extends Error {
  override name = "EmbeddedDatabaseBusy";
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(`the embedded database in ${dataDir} is open in process ${pid} (one process at a time may open it)`);
  }
}

/**
 * Opens Postgres compiled to WebAssembly (PGlite) in this process, behind the Prisma client the services
 * use (through PGlite's Prisma driver adapter), with `runPrepared` and `listen` working on it as on a
 * server. `dataDir` keeps the data across restarts; without it the database lives in memory. One process
 * at a time may open a folder: a second one gets EmbeddedDatabaseBusy (`<dataDir>.lock` names the holder).
 */
export async function openEmbeddedDatabase(dataDir?: string): Promise<EmbeddedDatabase> {
  const unlock = dataDir ? await lockFolder(dataDir) : () => undefined;
  try {
    return await openUnlocked(dataDir, unlock);
  } catch (error) {
    unlock();
    throw error;
  }
}

async function openUnlocked(dataDir: string | undefined, unlock: () => void): Promise<EmbeddedDatabase> {
  // Loaded only here: a service on a Postgres server never pays for the WebAssembly build.
  const [{ PGlite }, { PrismaPGlite }] = await Promise.all([
    import("@electric-sql/pglite"),
    import("pglite-prisma-adapter"),
  ]);
  // Postgres's default 128 MB of shared buffers would take 600 MB more of this process's memory at the
  // first start; a development database is served as well by 16 MB.
  const pglite = await PGlite.create({ ...(dataDir ? { dataDir } : {}), postgresqlconf: "shared_buffers=16MB" });
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
      unlock();
    },
  };
}

/** Takes `<dataDir>.lock` for this process (a holder that has exited leaves a lock that is taken over). */
async function lockFolder(dataDir: string): Promise<() => void> {
  const lock = `${dataDir}.lock`;
  await mkdir(dirname(lock), { recursive: true });
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
      return () => {
        if (readLock(lock) === process.pid) unlinkSync(lock);
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = readLock(lock);
    if (holder !== undefined && holder !== process.pid && alive(holder))
      throw new EmbeddedDatabaseBusy(dataDir, holder);
    unlinkSync(lock);
  }
}

function readLock(lock: string): number | undefined {
  try {
    const pid = Number(readFileSync(lock, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The database of a command (admin, demo): the server at `databaseUrl`, or without one the embedded
 * database in `embeddedDataDir`, migrated, which only one process at a time may open.
 */
export async function openDatabaseAt(databaseUrl: string | undefined): Promise<{ db: Db; close(): Promise<void> }> {
  if (databaseUrl) {
    const db = createDb(databaseUrl, { poolSize: 2 });
    return { db, close: () => db.$disconnect() };
  }
  const embedded = await openEmbeddedDatabase(embeddedDataDir());
  try {
    await embedded.migrate(migrationsDir);
  } catch (error) {
    await embedded.close();
    throw error;
  }
  return embedded;
}
