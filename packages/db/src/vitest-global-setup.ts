// One fresh, migrated database per test run, dropped at the end. Tests read its URL with
// `inject("databaseUrl")` and make their own tenants, so they never depend on each other.
import type { TestProject } from "vitest/node";
import { createTestDatabase } from "./testing";

export default async function setup(project: TestProject) {
  const db = await createTestDatabase();
  project.provide("databaseUrl", db.url);
  return async () => {
    await db.drop();
  };
}
