import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** Where the repository keeps its migrations and schema. */
export const migrationsDir = process.env.MIGRATIONS_DIR ?? resolve(here, "../../../prisma/migrations");
export const schemaPath = resolve(here, "../../../prisma/schema.prisma");
/**
 * Where the embedded development mode keeps its database: `EMBEDDED_DATA_DIR` (relative to the repository),
 * `.data/postgres` unless set. Read at each call, after the commands have read `.env`.
 */
export function embeddedDataDir(): string {
  return resolve(here, "../../..", process.env.EMBEDDED_DATA_DIR || ".data/postgres");
}
