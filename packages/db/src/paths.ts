import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** Where the repository keeps its migrations and schema. */
export const migrationsDir = process.env.MIGRATIONS_DIR ?? resolve(here, "../../../prisma/migrations");
export const schemaPath = resolve(here, "../../../prisma/schema.prisma");
