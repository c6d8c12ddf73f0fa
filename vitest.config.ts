import { defineConfig } from "vitest/config";

const reporters: NonNullable<NonNullable<Parameters<typeof defineConfig>[0]>["test"]>["reporters"] = process.env.CI
  ? ["default", ["json", { outputFile: "test-results/vitest.json" }]]
  : ["default"];

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "services/*/test/**/*.test.ts"],
    globalSetup: ["packages/db/src/vitest-global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters,
  },
});
