// What scripts/servers.mjs (run by scripts/setup.sh) decides for servers that do not answer.
import { describe, expect, it } from "vitest";
import { addressesOf, planFor } from "../scripts/servers.mjs";

const everything = {
  postgres: "/usr/lib/postgresql/15/bin",
  nats: "/usr/sbin/nats-server",
  redis: "/usr/bin/redis-server",
};
const nothing = { postgres: null, nats: null, redis: null };
const missing = (name: string, host = "127.0.0.1", port = 1) => ({ name, host, port });

describe("servers for a bare machine", () => {
  it("takes the addresses from the configuration, the tests' own first", () => {
    expect(addressesOf({})).toEqual({
      postgres: { host: "127.0.0.1", port: 5432 },
      nats: { host: "127.0.0.1", port: 4222 },
      redis: { host: "127.0.0.1", port: 6379 },
    });
    expect(
      addressesOf({
        DATABASE_URL: "postgres://postgres@127.0.0.1:55432/ipaas",
        TEST_DATABASE_SERVER_URL: "postgres://postgres@localhost:55433/postgres",
        NATS_URL: "nats://127.0.0.1:54222",
        REDIS_URL: "redis://127.0.0.1:56379",
      }),
    ).toEqual({
      postgres: { host: "localhost", port: 55433 },
      nats: { host: "127.0.0.1", port: 54222 },
      redis: { host: "127.0.0.1", port: 56379 },
    });
  });

  it("does nothing when everything answers, and starts what does not from the machine's binaries", () => {
    const machine = { binaries: everything, debian: false, root: false, aptGet: false };
    expect(planFor([], machine)).toEqual({ action: "none" });
    const servers = [missing("postgres"), missing("redis")];
    expect(planFor(servers, machine)).toEqual({ action: "start", servers });
  });

  it("installs the missing packages first on Debian or Ubuntu as root, and only then", () => {
    const servers = [missing("postgres"), missing("nats")];
    const binaries = { ...nothing, postgres: everything.postgres };
    expect(planFor(servers, { binaries, debian: true, root: true, aptGet: true })).toEqual({
      action: "install-then-start",
      packages: ["nats-server"],
      servers,
    });
    for (const machine of [
      { binaries, debian: true, root: false, aptGet: true },
      { binaries, debian: false, root: true, aptGet: true },
      { binaries, debian: true, root: true, aptGet: false },
    ]) {
      const plan = planFor(servers, machine);
      expect(plan.action).toBe("refuse");
      expect(plan.why).toContain("install nats-server");
    }
  });

  it("leaves the missing servers of a test run to its containers when Docker answers, and only then", () => {
    const servers = [missing("postgres"), missing("nats", "db.internal", 4222)];
    const docker = { binaries: nothing, debian: true, root: true, aptGet: true, docker: true };
    expect(planFor(servers, docker, { forTests: true })).toEqual({ action: "containers", servers });
    // For `pnpm dev` on servers, containers are not the answer: the machine's servers are.
    expect(planFor([missing("postgres")], docker)).toEqual({
      action: "install-then-start",
      packages: ["postgresql"],
      servers: [missing("postgres")],
    });
    expect(planFor([missing("postgres")], { ...docker, docker: false }, { forTests: true }).action).toBe(
      "install-then-start",
    );
  });

  it("never tries to start a server on another machine", () => {
    const plan = planFor([missing("postgres", "db.internal", 5432)], {
      binaries: everything,
      debian: true,
      root: true,
      aptGet: true,
    });
    expect(plan).toEqual({
      action: "refuse",
      why: "postgres at db.internal:5432 does not answer, and it is not on this machine",
    });
  });
});
