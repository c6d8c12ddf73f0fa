// `pnpm db:migrate`: applies pending migrations to DATABASE_URL (from the environment or the repository's
// `.env`), or without it to the embedded development database (`.data/postgres`).
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import pg from "pg";
import { embeddedDataDir, migrate, migrationsDir, openEmbeddedDatabase } from "./index";

const envFile = resolve(migrationsDir, "../../.env");
if (process.env.ENV_FILE !== "none" && existsSync(envFile)) process.loadEnvFile(envFile);
const url = process.env.DATABASE_URL;

async function migrateEmbedded() {
  const embedded = await openEmbeddedDatabase(embeddedDataDir());
  try {
    return await embedded.migrate(migrationsDir);
  } finally {
    await embedded.close();
  }
}

/** Creates the database `url` names when its server does not have it yet. */
async function createIfMissing(url: string) {
  const maintenance = new URL(url);
  const name = decodeURIComponent(maintenance.pathname.slice(1));
  maintenance.pathname = "/postgres";
  const client = new pg.Client({ connectionString: maintenance.toString() });
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  } finally {
    await client.end();
  }
}

try {
  if (url) await createIfMissing(url);
  const { applied, alreadyApplied } = url ? await migrate(url, migrationsDir) : await migrateEmbedded();
  process.stdout.write(
    applied.length === 0
      ? `database is up to date (${alreadyApplied.length} migrations)\n`
      : `applied ${applied.length} migration(s): ${applied.join(", ")}\n`,
  );
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
}
