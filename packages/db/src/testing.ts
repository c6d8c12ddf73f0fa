import { randomBytes } from "node:crypto";
import pg from "pg";
import { migrate } from "./migrator";
import { migrationsDir } from "./paths";

declare module "vitest" {
  export interface ProvidedContext {
    /** The run's fresh, migrated database (see @ipaas/testing's global-setup.ts). */
    databaseUrl: string;
  }
}

/**
 * The server tests create their databases on (`TEST_DATABASE_SERVER_URL`, else the server of `DATABASE_URL`);
 * its maintenance database `postgres` is used to create and drop them. Read at each use: the run's set-up
 * may have started one.
 */
function testServerUrl(): string {
  return (
    process.env.TEST_DATABASE_SERVER_URL ||
    withDatabase(process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/ipaas", "postgres")
  );
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testServerUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database with a unique name; `migrated` also applies every migration. */
export async function createTestDatabase(options: { migrated?: boolean; prefix?: string } = {}): Promise<TestDatabase> {
  const name = `${options.prefix ?? "ipaas_test"}_${randomBytes(6).toString("hex")}`;
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = withDatabase(testServerUrl(), name);
  if (options.migrated ?? true) await migrate(url, migrationsDir);
  return {
    url,
    name,
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}
