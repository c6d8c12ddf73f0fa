// The integration lane's set-up: the servers of the run (see servers-for-the-run.ts), then one fresh,
// migrated database per run, dropped at the end. Tests read its URL with `inject("databaseUrl")` and make
// their own tenants, so they never depend on each other.
import { createTestDatabase } from "@ipaas/db/testing";
import type { TestProject } from "vitest/node";
import { ServersMissing, serversForTheRun } from "./servers-for-the-run";

export default async function setup(project: TestProject) {
  const stopServers = await serversForTheRun(process.env, (line) => process.stdout.write(`tests: ${line}\n`)).catch(
    (error: unknown) => {
      // One line, not a stack: the run cannot start, and this says what to do.
      if (error instanceof ServersMissing) throw Object.assign(new Error(error.message), { stack: error.message });
      throw error;
    },
  );
  const db = await createTestDatabase();
  project.provide("databaseUrl", db.url);
  return async () => {
    await db.drop();
    await stopServers();
  };
}
