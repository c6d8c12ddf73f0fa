import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { migrate, migrationsDir, readMigrations } from "../src/index";
import { createTestDatabase, type TestDatabase } from "../src/testing";

const created: TestDatabase[] = [];
async function emptyDatabase() {
  const db = await createTestDatabase({ migrated: false, prefix: "ipaas_migrator" });
  created.push(db);
  return db;
}
afterEach(async () => {
  await Promise.all(created.splice(0).map((d) => d.drop()));
});

async function query<T extends pg.QueryResultRow>(url: string, sql: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe("migrator", () => {
  it("applies every migration to a fresh database and records it in _prisma_migrations", async () => {
    const db = await emptyDatabase();
    const all = await readMigrations(migrationsDir);
    const result = await migrate(db.url, migrationsDir);
    expect(result.applied).toEqual(all.map((m) => m.name));
    const rows = await query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
      db.url,
      `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    expect(rows.map((r) => [r.migration_name, r.checksum])).toEqual(all.map((m) => [m.name, m.checksum]));
    expect(rows.every((r) => r.finished_at !== null)).toBe(true);
  });

  it("is a no-op when the database is up to date", async () => {
    const db = await emptyDatabase();
    await migrate(db.url, migrationsDir);
    const second = await migrate(db.url, migrationsDir);
    expect(second.applied).toEqual([]);
    const [{ count }] = (await query<{ count: string }>(db.url, `SELECT count(*) FROM "_prisma_migrations"`)) as [
      { count: string },
    ];
    expect(Number(count)).toBe((await readMigrations(migrationsDir)).length);
  });

  it("refuses a migration whose file changed after it was applied", async () => {
    const db = await emptyDatabase();
    const dir = await mkdtemp(join(tmpdir(), "migrations-"));
    try {
      await cp(migrationsDir, dir, { recursive: true });
      await migrate(db.url, dir);
      const [first] = await readMigrations(dir);
      await writeFile(join(dir, first?.name ?? "", "migration.sql"), `${first?.sql}\n-- edited\n`);
      await expect(migrate(db.url, dir)).rejects.toThrow(/was changed after it was applied/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("applies a new migration added after the first run, and rolls back a failing one whole", async () => {
    const db = await emptyDatabase();
    const dir = await mkdtemp(join(tmpdir(), "migrations-"));
    try {
      await cp(migrationsDir, dir, { recursive: true });
      await migrate(db.url, dir);
      const { mkdir } = await import("node:fs/promises");
      await mkdir(join(dir, "29990101000000_broken"));
      await writeFile(
        join(dir, "29990101000000_broken", "migration.sql"),
        `CREATE TABLE "half_done" (id TEXT);\nSELECT * FROM "no_such_table";`,
      );
      await expect(migrate(db.url, dir)).rejects.toThrow(/29990101000000_broken failed/);
      const tables = await query<{ n: string }>(db.url, `SELECT to_regclass('public.half_done')::text AS n`);
      expect(tables[0]?.n).toBeNull();
      const recorded = await query(db.url, `SELECT 1 FROM "_prisma_migrations" WHERE migration_name LIKE '%broken'`);
      expect(recorded).toHaveLength(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("applies once when two runs start together", async () => {
    const db = await emptyDatabase();
    const results = await Promise.all([migrate(db.url, migrationsDir), migrate(db.url, migrationsDir)]);
    const total = (await readMigrations(migrationsDir)).length;
    expect(results.map((r) => r.applied.length).sort()).toEqual([0, total]);
    const rows = await query(db.url, `SELECT migration_name FROM "_prisma_migrations"`);
    expect(rows).toHaveLength(total);
  });
});
