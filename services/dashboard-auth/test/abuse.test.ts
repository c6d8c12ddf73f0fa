import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createTestDatabase } from "@ipaas/db/testing";
import {
  buildDashboard,
  email,
  enrolledUser,
  loginAs,
  PASSWORD,
  post,
  refreshSession,
  TEST_MASTER_KEY,
  totp,
  waitFor,
} from "@ipaas/testing";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { MAX_CONSECUTIVE_FAILURES } from "../src/features/two-factor/two-factor";

describe("abuse controls", () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildDashboard();
  });
  afterAll(() => app.close());

  it(`disables the authenticator after ${MAX_CONSECUTIVE_FAILURES} wrong codes until an administrator resets it`, async () => {
    const user = await enrolledUser(app);
    // Two sessions from before the authenticator was disabled.
    const sessions = [await loginAs(app, user), await loginAs(app, user)];
    await app.db.totpEnrolment.update({
      where: { userId: user.userId },
      data: { failedAttempts: MAX_CONSECUTIVE_FAILURES - 2 },
    });
    const bad = () => post(app, "/v1/auth/login", { email: user.email, password: PASSWORD, code: "000000" });
    expect((await bad()).json().code).toBe("INVALID_TWO_FACTOR_CODE");
    expect((await bad()).json().code).toBe("TWO_FACTOR_LOCKED");
    const enrolment = await app.db.totpEnrolment.findUniqueOrThrow({ where: { userId: user.userId } });
    expect(enrolment.failedAttempts).toBe(MAX_CONSECUTIVE_FAILURES);
    expect(enrolment.disabledAt).not.toBeNull();

    // Even the right code is refused now.
    const right = await post(app, "/v1/auth/login", {
      email: user.email,
      password: PASSWORD,
      code: totp(user.secret, Date.now() + 30_000),
    });
    expect(right.statusCode).toBe(403);
    expect(right.json().code).toBe("TWO_FACTOR_LOCKED");
    const audit = await app.db.auditEvent.findFirst({ where: { actorId: user.userId, action: "auth.2fa_disabled" } });
    expect(audit).not.toBeNull();

    // Disabling it made the sessions' claims stale (2FA is no longer on), not the sessions: they go on.
    const verify = async (token: string) => (await post(app, "/v1/auth/verify-token", undefined, token)).statusCode;
    for (const session of sessions) {
      await refreshSession(app, session);
      expect(await verify(session.token)).toBe(200);
    }

    // An administrator resets it (audited); the user sets 2FA up again at the next login.
    await runAdmin(["reset-2fa", "--email", user.email]);
    // Every session of the user ended with the reset: its refresh tokens are refused at once, its access tokens
    // as soon as this instance hears of it (the command is a process of its own, like another instance).
    const ended = await app.db.session.findMany({ where: { userId: user.userId } });
    expect(ended.map((s) => [s.endedAt !== null, s.endReason])).toEqual(sessions.map(() => [true, "2fa_reset"]));
    for (const session of sessions) {
      const refreshed = await post(app, "/v1/auth/refresh", { refreshToken: session.refreshToken });
      expect(refreshed.statusCode).toBe(401);
      expect(refreshed.json().code).toBe("INVALID_REFRESH_TOKEN");
      await waitFor("the access token refused", async () => (await verify(session.token)) === 401, 5_000);
    }
    const after = await post(app, "/v1/auth/login", { email: user.email, password: PASSWORD });
    expect(after.json().twoFactorSetupRequired).toBe(true);
    expect(
      await app.db.auditEvent.findFirst({ where: { targetId: user.userId, action: "auth.2fa_reset" } }),
    ).not.toBeNull();
  });

  it("counts 101 wrong codes sent over HTTP and disables at the 100th", async () => {
    const user = await enrolledUser(app);
    const codes: string[] = [];
    for (let i = 0; i < MAX_CONSECUTIVE_FAILURES + 1; i++) {
      const res = await post(app, "/v1/auth/login", { email: user.email, password: PASSWORD, code: "999999" });
      codes.push(res.json().code);
    }
    expect(codes.slice(0, MAX_CONSECUTIVE_FAILURES - 1).every((c) => c === "INVALID_TWO_FACTOR_CODE")).toBe(true);
    expect(codes.slice(MAX_CONSECUTIVE_FAILURES - 1)).toEqual(["TWO_FACTOR_LOCKED", "TWO_FACTOR_LOCKED"]);
  }, 60_000);

  it("audits successes and failures with who, tenant, what, when, address and agent, and no secret", async () => {
    const user = await enrolledUser(app);
    await app.inject({
      method: "POST",
      url: "/v1/auth/login",
      payload: { email: user.email, password: "wrong password here" },
      headers: { "user-agent": "audit-test/1.0" },
    });
    const events = await app.db.auditEvent.findMany({ where: { actorId: user.userId }, orderBy: { createdAt: "asc" } });
    const actions = events.map((e) => `${e.action}:${e.outcome}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        "tenant.organization_registered:success",
        "auth.login:success",
        "auth.2fa_setup_started:success",
        "auth.2fa_enabled:success",
        "auth.login:failure",
      ]),
    );
    const failure = events.find((e) => e.action === "auth.login" && e.outcome === "failure");
    expect(failure).toMatchObject({ actorType: "user", ip: "127.0.0.1", userAgent: "audit-test/1.0" });
    expect(failure?.tenantId).toMatch(/^org_/);
    expect(failure?.details).toEqual({ reason: "wrong_password" });
    const everything = JSON.stringify(events);
    for (const secret of [PASSWORD, user.secret, ...user.recoveryCodes]) expect(everything).not.toContain(secret);
  });
});

describe("per-address rate limits", () => {
  it("throttles login per client address; a spoofed X-Forwarded-For does not reset it", async () => {
    const app = await buildDashboard({ AUTH_RATE_LIMIT_PER_MINUTE: "5" });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        const res = await app.inject({
          method: "POST",
          url: "/v1/auth/login",
          payload: { email: email(), password: "whatever password" },
          headers: { "x-forwarded-for": `203.0.113.${i}` },
        });
        statuses.push(res.statusCode);
      }
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
      const limited = await app.inject({
        method: "POST",
        url: "/v1/auth/forgot-password",
        payload: { email: email() },
      });
      expect(limited.statusCode).toBe(202);
    } finally {
      await app.close();
    }
  });

  it("believes X-Forwarded-For only from a configured proxy", async () => {
    const app = await buildDashboard({ AUTH_RATE_LIMIT_PER_MINUTE: "2", TRUST_PROXY: "127.0.0.1" });
    try {
      const from = async (ip: string) =>
        (
          await app.inject({
            method: "POST",
            url: "/v1/auth/login",
            payload: { email: email(), password: "whatever password" },
            headers: { "x-forwarded-for": ip },
          })
        ).statusCode;
      expect([await from("198.51.100.1"), await from("198.51.100.1"), await from("198.51.100.1")]).toEqual([
        401, 401, 429,
      ]);
      expect(await from("198.51.100.2")).toBe(401);
    } finally {
      await app.close();
    }
  });
});

describe("platform owner bootstrap", () => {
  it("creates the MAIN Owner from the command line with a one-time set-up link and no default password", async () => {
    // A database of its own: bootstrapping is a once-per-platform event.
    const database = await createTestDatabase({ prefix: "ipaas_bootstrap" });
    const ownerEmail = email("owner");
    const out = await runAdmin(["bootstrap", "--email", ownerEmail, "--name", "Platform Owner"], database.url);
    const token = /token=([A-Za-z0-9_%-]+)/.exec(out)?.[1];
    expect(token).toBeDefined();
    const app = await buildDashboard({ DATABASE_URL: database.url });
    try {
      const owner = await app.db.user.findUniqueOrThrow({
        where: { email: ownerEmail },
        include: { role: true, tenant: true },
      });
      expect(owner).toMatchObject({ internal: true, head: true, role: { name: "Owner" }, tenant: { kind: "MAIN" } });
      const password = "owner chooses a long passphrase";
      expect((await post(app, "/v1/auth/login", { email: ownerEmail, password })).statusCode).toBe(401);
      const set = await post(app, "/v1/auth/reset-password", { token: decodeURIComponent(token ?? ""), password });
      expect(set.statusCode).toBe(200);
      const login = await post(app, "/v1/auth/login", { email: ownerEmail, password });
      expect(login.json().twoFactorSetupRequired).toBe(true);
      // A second bootstrap is refused.
      await expect(
        runAdmin(["bootstrap", "--email", email("owner2"), "--name", "Another"], database.url),
      ).rejects.toThrow(/exists already/);
    } finally {
      await app.close();
      await database.drop();
    }
  });
});

function runAdmin(args: string[], databaseUrl = inject("databaseUrl")): Promise<string> {
  const entry = fileURLToPath(new URL("../src/cli/admin.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", entry, ...args], {
    env: {
      PATH: process.env.PATH,
      ENV_FILE: "none",
      // The settings the services read: both server addresses (the command itself uses only the database).
      DATABASE_URL: databaseUrl,
      NATS_URL: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
      MASTER_KEY: TEST_MASTER_KEY,
      DASHBOARD_UI_URL: "https://dashboard.example.test",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve, reject) =>
    child.on("exit", (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`admin ${args[0]} exited ${code}: ${stderr}`)),
    ),
  );
}
