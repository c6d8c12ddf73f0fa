import { createDb, type Db, migrate, migrationsDir } from "@ipaas/db";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";

declare module "fastify" {
  interface FastifyInstance {
    db: Db;
  }
}

export type DatabaseOptions =
  | {
      url: string;
      poolSize: number;
      /** Apply pending migrations before serving (the migrator's advisory lock makes this safe to race). */
      migrateOnStart: boolean;
    }
  /** A client its owner opened, migrated and closes (the embedded database). */
  | { db: Db };

/**
 * The Prisma client as `app.db` (its own pool on the server at `url`, closed with the app, or the `db` it
 * is given), a Postgres readiness check, and migrations at start when asked.
 */
export const databasePlugin = fp(
  async (app: FastifyInstance, options: DatabaseOptions) => {
    if ("db" in options) {
      app.decorate("db", options.db);
      addReadiness(app, options.db);
      return;
    }
    if (options.migrateOnStart) {
      const { applied } = await migrate(options.url, migrationsDir);
      if (applied.length > 0) app.log.info({ applied }, "applied database migrations");
    }
    const db = createDb(options.url, { poolSize: options.poolSize, connectionTimeoutMs: 2_000 });
    app.decorate("db", db);
    addReadiness(app, db);
    app.addHook("onClose", async () => {
      await db.$disconnect();
    });
  },
  { name: "database", dependencies: ["health"] },
);

function addReadiness(app: FastifyInstance, db: Db): void {
  // A failed query throws: readiness reports "unreachable" and logs the error itself.
  app.readiness.add("postgres", async () => {
    await db.$queryRaw`SELECT 1`;
    return { ok: true, detail: "connected" };
  });
}
