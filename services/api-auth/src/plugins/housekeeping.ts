import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { deleteExpiredRows } from "../repositories/expired-rows";

declare module "fastify" {
  interface FastifyInstance {
    /** Deletes the rows that can no longer change an answer (see `deleteExpiredRows`); every 10 minutes. */
    deleteExpiredRows(): Promise<void>;
  }
}

const EVERY_MS = 10 * 60_000;

/**
 * Keeps the tables that grow with traffic (revocations, used DPoP proofs, send counters, challenges) to
 * what is still in force. Every instance runs it; the deletes are idempotent, so running twice is harmless.
 */
export const housekeepingPlugin = fp(
  async (app: FastifyInstance) => {
    const run = async () => {
      const deleted = await deleteExpiredRows(app.db, new Date());
      app.log.debug({ deleted }, "expired rows deleted");
    };
    app.decorate("deleteExpiredRows", run);
    let timer: NodeJS.Timeout | undefined;
    app.addHook("onReady", async () => {
      timer = setInterval(() => {
        run().catch((error: unknown) => app.log.warn({ err: error }, "deleting expired rows failed"));
      }, EVERY_MS);
      timer.unref();
    });
    app.addHook("onClose", async () => clearInterval(timer));
  },
  { name: "housekeeping", dependencies: ["database"] },
);
