export {
  createDb,
  type Db,
  type DbOptions,
  type DbOrTx,
  listen,
  type PreparedStatement,
  runPrepared,
  type Tx,
} from "./client";
export { type EmbeddedDatabase, EmbeddedDatabaseBusy, openDatabaseAt, openEmbeddedDatabase } from "./embedded";
export { Prisma } from "./generated/prisma/client";
export * from "./generated/prisma/enums";
export type * from "./generated/prisma/models";
export { type MigrateResult, MigrationError, type MigrationSession, migrate, readMigrations } from "./migrator";
export { embeddedDataDir, migrationsDir } from "./paths";
export { isDatabaseUnavailable } from "./unavailable";
