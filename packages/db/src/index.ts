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
export { Prisma } from "./generated/prisma/client";
export * from "./generated/prisma/enums";
export type * from "./generated/prisma/models";
export { type MigrateResult, MigrationError, migrate, readMigrations } from "./migrator";
export { migrationsDir } from "./paths";
