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
    app.readiness.add("postgres", async () => {
      try {
        await db.$queryRaw`SELECT 1`;
        return { ok: true, detail: "connected" };
      } catch (error) {
        return { ok: false, detail: `query failed: ${describeDbError(error)}` };
      }
    });
    app.addHook("onClose", async () => {
      await db.$disconnect();
    });
  },
  { name: "database", dependencies: ["health"] },
);

function describeDbError(error: unknown): string {
  const e = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.cause?.code ?? e.code;
  const message = (e.cause?.message ?? e.message ?? "unknown error").split("\n")[0] ?? "unknown error";
  return code ? `${code} ${message}` : message;
}
