import { createDb, type Db, migrate, migrationsDir } from "@ipaas/db";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";

declare module "fastify" {
  interface FastifyInstance {
    db: Db;
  }
}

export interface DatabaseOptions {
  url: string;
  poolSize: number;
  /** Apply pending migrations before serving (the migrator's advisory lock makes this safe to race). */
  migrateOnStart: boolean;
}

/** The Prisma client as `app.db`, a Postgres readiness check, and migrations at start when asked. */
export const databasePlugin = fp(
  async (app: FastifyInstance, options: DatabaseOptions) => {
    if (options.migrateOnStart) {
      const { applied } = await migrate(options.url, migrationsDir);
      if (applied.length > 0) app.log.info({ applied }, "applied database migrations");
    }
    const db = createDb(options.url, { poolSize: options.poolSize, connectionTimeoutMs: 2_000 });
    app.decorate("db", db);
    // A failed query throws: readiness reports "unreachable" and logs the error itself.
    app.readiness.add("postgres", async () => {
      await db.$queryRaw`SELECT 1`;
      return { ok: true, detail: "connected" };
    });
    app.addHook("onClose", async () => {
      await db.$disconnect();
    });
  },
  { name: "database", dependencies: ["health"] },
);
