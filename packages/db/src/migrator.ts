import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";

/** The same key `prisma migrate` locks, so our migrator and Prisma's never run at once. */
const ADVISORY_LOCK_KEY = 72707369;

/** Prisma's own bookkeeping table, so `prisma migrate deploy` agrees with what we applied. */
const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum"            VARCHAR(64) NOT NULL,
  "finished_at"         TIMESTAMPTZ,
  "migration_name"      VARCHAR(255) NOT NULL,
  "logs"                TEXT,
  "rolled_back_at"      TIMESTAMPTZ,
  "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
}

export class MigrationError extends Error {
  override name = "MigrationError";
}

/** Reads `<dir>/<timestamp>_<name>/migration.sql` in name order. */
export async function readMigrations(dir: string): Promise<MigrationFile[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    }),
  );
}

/** What the migrator needs of a database connection: statements with parameters, and scripts of many. */
export interface MigrationSession {
  query<Row>(text: string, params?: unknown[]): Promise<Row[]>;
  exec(script: string): Promise<void>;
  close(): Promise<void>;
}

/** A session on a Postgres server, over a connection of its own. */
async function serverSession(databaseUrl: string): Promise<MigrationSession> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  return {
    query: async <Row>(text: string, params?: unknown[]) => (await client.query(text, params)).rows as Row[],
    // Without parameters node-postgres sends the simple query protocol, which takes many statements.
    exec: async (script) => {
      await client.query(script);
    },
    close: () => client.end(),
  };
}

/**
 * Applies every migration in `dir` that the database has not recorded, each in its own transaction,
 * under a Postgres advisory lock. Refuses to go on when an applied migration's file changed or an
 * earlier run failed half-way. `target` is a server's URL, or a session on another kind of database (the
 * embedded one: see `openEmbeddedDatabase`), which the caller closes.
 */
export async function migrate(target: string | MigrationSession, dir: string): Promise<MigrateResult> {
  const migrations = await readMigrations(dir);
  const session = typeof target === "string" ? await serverSession(target) : target;
  try {
    await session.query("SELECT pg_advisory_lock($1)", [ADVISORY_LOCK_KEY]);
    try {
      await session.exec(CREATE_MIGRATIONS_TABLE);
      const rows = await session.query<{
        migration_name: string;
        checksum: string;
        finished_at: Date | null;
        rolled_back_at: Date | null;
      }>(`SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"`);
      const recorded = new Map(rows.filter((r) => r.rolled_back_at === null).map((r) => [r.migration_name, r]));

      const result: MigrateResult = { applied: [], alreadyApplied: [] };
      for (const migration of migrations) {
        const row = recorded.get(migration.name);
        if (row) {
          if (row.finished_at === null) {
            throw new MigrationError(
              `migration ${migration.name} failed in an earlier run; fix the database by hand, then mark it rolled back`,
            );
          }
          if (row.checksum !== migration.checksum) {
            throw new MigrationError(
              `migration ${migration.name} was changed after it was applied (checksum ${row.checksum} in the database, ${migration.checksum} on disk); add a new migration instead`,
            );
          }
          result.alreadyApplied.push(migration.name);
          continue;
        }
        await applyOne(session, migration);
        result.applied.push(migration.name);
      }
      return result;
    } finally {
      await session.query("SELECT pg_advisory_unlock($1)", [ADVISORY_LOCK_KEY]);
    }
  } finally {
    if (typeof target === "string") await session.close();
  }
}

async function applyOne(session: MigrationSession, migration: MigrationFile): Promise<void> {
  await session.exec("BEGIN");
  try {
    await session.exec(migration.sql);
    await session.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, finished_at, applied_steps_count)
       VALUES ($1, $2, $3, now(), 1)`,
      [randomUUID(), migration.checksum, migration.name],
    );
    await session.exec("COMMIT");
  } catch (error) {
    await session.exec("ROLLBACK");
    throw new MigrationError(`migration ${migration.name} failed: ${(error as Error).message}`);
  }
}
