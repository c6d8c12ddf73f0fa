import { defineConfig } from "vitest/config";

const reporters: NonNullable<NonNullable<Parameters<typeof defineConfig>[0]>["test"]>["reporters"] = process.env.CI
  ? ["default", ["json", { outputFile: "test-results/vitest.json" }]]
  : ["default"];

/**
 * Two lanes: `unit` (`*.unit.test.ts`: pure rules, no database, no NATS, no servers; `pnpm test:unit`, in
 * seconds) and `integration` (everything else, against the real Postgres and NATS; the run's database is
 * created and migrated by the global set-up). `pnpm test` runs both.
 */
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: [
            "test/**/*.unit.test.ts",
            "packages/*/test/**/*.unit.test.ts",
            "services/*/test/**/*.unit.test.ts",
            "tools/*/test/**/*.unit.test.ts",
          ],
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: [
            "packages/*/test/**/*.test.ts",
            "services/*/test/**/*.test.ts",
            "tools/*/test/**/*.test.ts",
            "test/**/*.test.ts",
          ],
          exclude: ["**/*.unit.test.ts", "**/node_modules/**"],
          globalSetup: ["packages/testing/src/global-setup.ts"],
        },
      },
    ],
  },
});
