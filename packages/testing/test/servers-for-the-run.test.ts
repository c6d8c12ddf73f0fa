// The test run's servers: those at the configured addresses, else containers when a Docker engine answers,
// else one line saying what to do.
import { describe, expect, it } from "vitest";
import { dockerAnswers } from "../src/containers";
import { ServersMissing, serverNeeds, serversForTheRun } from "../src/servers-for-the-run";

describe("the servers of a test run", () => {
  it("reads the tests' own addresses first, then the services'", () => {
    expect(serverNeeds({}).map((need) => need.url)).toEqual([
      "postgres://postgres@127.0.0.1:5432/postgres",
      "nats://127.0.0.1:4222",
      "redis://127.0.0.1:6379",
    ]);
    const urls = serverNeeds({
      DATABASE_URL: "postgres://postgres@db:5432/ipaas",
      TEST_DATABASE_SERVER_URL: "postgres://postgres@testdb:5433/postgres",
      NATS_URL: "nats://nats:4222",
      REDIS_URL: "redis://cache:6379",
      TEST_REDIS_URL: "redis://testcache:6380",
    }).map((need) => need.url);
    expect(urls).toEqual(["postgres://postgres@testdb:5433/postgres", "nats://nats:4222", "redis://testcache:6380"]);
  });

  it("uses the servers that answer, and logs where each is", async () => {
    const env = {
      TEST_DATABASE_SERVER_URL: process.env.TEST_DATABASE_SERVER_URL,
      DATABASE_URL: process.env.DATABASE_URL,
      NATS_URL: process.env.NATS_URL,
      TEST_REDIS_URL: process.env.TEST_REDIS_URL,
      REDIS_URL: process.env.REDIS_URL,
    };
    const before = { ...env };
    const lines: string[] = [];
    const stop = await serversForTheRun(env, (line) => lines.push(line));
    await stop();
    expect(lines).toEqual([
      expect.stringMatching(/^PostgreSQL answers at /),
      expect.stringMatching(/^NATS answers at /),
      expect.stringMatching(/^Redis answers at /),
    ]);
    expect(env).toEqual(before);
  });

  it("starts a missing one in a container when Docker answers, and otherwise says in one line what to do", async () => {
    const env: Record<string, string | undefined> = { ...process.env, TEST_REDIS_URL: "redis://127.0.0.1:1" };
    const lines: string[] = [];
    if (await dockerAnswers()) {
      const stop = await serversForTheRun(env, (line) => lines.push(line));
      try {
        expect(lines.at(-1)).toMatch(
          /^Redis did not answer at 127\.0\.0\.1:1: started in a container for this run at /,
        );
        expect(env.TEST_REDIS_URL).not.toBe("redis://127.0.0.1:1");
      } finally {
        await stop();
      }
      return;
    }
    const refused = await serversForTheRun(env, (line) => lines.push(line)).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ServersMissing);
    expect((refused as Error).message).toBe(
      "Redis at 127.0.0.1:1 does not answer and no Docker engine does: run bash scripts/test.sh, which starts " +
        "them from the machine's packages (installing them as root on Debian or Ubuntu)",
    );
  }, 120_000);
});
