import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ConfigError, sha256Hex, TokenService } from "@ipaas/service-kit";
import {
  bodyWithoutRequestId,
  buildDashboard,
  email,
  enrolledUser,
  LogCapture,
  loginAs,
  PASSWORD,
  post,
  registerBank,
  registerOrganization,
  TEST_MASTER_KEY,
  testConfig,
  totp,
} from "@ipaas/testing";
import type { FastifyInstance } from "fastify";
import { createLocalJWKSet, decodeJwt, jwtVerify } from "jose";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboardConfig } from "../src/config";

describe("login with mandatory two-factor", () => {
  let app: FastifyInstance;
  const logs = new LogCapture();
  beforeAll(async () => {
    app = await buildDashboard({ LOG_LEVEL: "trace" }, logs);
  });
  afterAll(() => app.close());

  async function jwks() {
    return createLocalJWKSet((await app.inject({ method: "GET", url: "/.well-known/jwks.json" })).json());
  }

  it("walks the seed's diagram: password → set-up → verify → login with code → verifiable token", async () => {
    const org = await registerOrganization(app);

    const first = await post(app, "/v1/auth/login", { email: org.email, password: PASSWORD });
    expect(first.statusCode).toBe(200);
    const pending = first.json();
    expect(pending).toEqual({ twoFactorSetupRequired: true, setupToken: expect.any(String), expiredIn: "10m" });
    expect(pending).not.toHaveProperty("token");

    const setup = await post(app, "/v1/auth/2fa/setup", undefined, pending.setupToken);
    expect(setup.statusCode).toBe(200);
    const { secret, otpauthUrl, qrCode } = setup.json();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(otpauthUrl).toMatch(/^otpauth:\/\/totp\/IPaaS:/);
    expect(otpauthUrl).toContain(`secret=${secret}`);
    // The QR code is a PNG that decodes to the otpauth URL, as an authenticator app would read it.
    expect(qrCode).toMatch(/^data:image\/png;base64,/);
    const png = PNG.sync.read(Buffer.from(qrCode.split(",")[1], "base64"));
    expect(jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data).toBe(otpauthUrl);

    const wrong = await post(app, "/v1/auth/2fa/verify", { code: "000000" }, pending.setupToken);
    expect(wrong.statusCode).toBe(401);
    const verified = await post(app, "/v1/auth/2fa/verify", { code: totp(secret) }, pending.setupToken);
    expect(verified.statusCode).toBe(200);
    const { recoveryCodes } = verified.json();
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);

    // The set-up token is done: 2FA is on.
    expect((await post(app, "/v1/auth/2fa/setup", undefined, pending.setupToken)).json().code).toBe(
      "TWO_FACTOR_ALREADY_ENABLED",
    );

    const noCode = await post(app, "/v1/auth/login", { email: org.email, password: PASSWORD });
    expect(noCode.statusCode).toBe(401);
    expect(noCode.json().code).toBe("TWO_FACTOR_REQUIRED");

    const ok = await post(app, "/v1/auth/login", {
      email: org.email,
      password: PASSWORD,
      code: totp(secret, Date.now() + 30_000),
    });
    expect(ok.statusCode).toBe(200);
    const session = ok.json();
    expect(session).toEqual({
      token: expect.any(String),
      expiredIn: "15m",
      createdAt: expect.any(String),
      refreshToken: expect.any(String),
    });

    const { payload, protectedHeader } = await jwtVerify(session.token, await jwks(), {
      issuer: app.tokens.issuer,
      audience: "ipaas-dashboard",
      typ: "at+jwt",
      algorithms: ["EdDSA"],
      requiredClaims: ["exp", "iat", "jti", "sub", "sid"],
    });
    expect(protectedHeader.alg).toBe("EdDSA");
    expect(payload).toMatchObject({
      sub: org.userId,
      userId: org.userId,
      email: org.email,
      role: "Super Admin",
      orgId: org.orgId,
      isBankUser: false,
      internal: false,
      head: true,
      status: "Active",
      isDeleted: false,
      isTwoFactorEnabled: true,
      permissions: expect.any(Array),
    });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(900);
    // No secret of any kind in the token.
    const text = JSON.stringify(payload);
    expect(text).not.toContain(secret);
    expect(text).not.toMatch(/secret|password|hash/i);

    const check = await post(app, "/v1/auth/verify-token", undefined, session.token);
    expect(check.statusCode).toBe(200);
    expect(check.json()).toEqual({ success: true, token: "Valid access token" });

    // Nothing secret reached the logs during the whole flow.
    for (const value of [PASSWORD, secret, session.token, session.refreshToken, pending.setupToken, ...recoveryCodes]) {
      expect(logs.text).not.toContain(value);
    }
  });

  it("logs banks in at /auth/banks/login only", async () => {
    const bank = await registerBank(app);
    const asOrg = await post(app, "/v1/auth/login", { email: bank.email, password: PASSWORD });
    expect(asOrg.statusCode).toBe(401);
    const asBank = await post(app, "/v1/auth/banks/login", { email: bank.email, password: PASSWORD });
    expect(asBank.statusCode).toBe(200);
    expect(asBank.json().twoFactorSetupRequired).toBe(true);
  });

  it("answers an unknown email and a wrong password alike", async () => {
    const org = await registerOrganization(app);
    const unknown = await post(app, "/v1/auth/login", { email: email("nobody"), password: PASSWORD });
    const wrong = await post(app, "/v1/auth/login", { email: org.email, password: "wrong horse battery staple" });
    expect(unknown.statusCode).toBe(401);
    expect(wrong.statusCode).toBe(401);
    expect(bodyWithoutRequestId(unknown)).toEqual(bodyWithoutRequestId(wrong));
    expect(bodyWithoutRequestId(unknown)).toMatchObject({ code: "INVALID_CREDENTIALS" });
  });

  it("keeps the TOTP secret encrypted at rest", async () => {
    const user = await enrolledUser(app);
    const row = await app.db.totpEnrolment.findUniqueOrThrow({ where: { userId: user.userId } });
    expect(row.secretEncrypted).not.toContain(user.secret);
    expect(app.masterKey.decrypt(row.secretEncrypted, `totp:${user.userId}`)).toBe(user.secret);
  });

  it("accepts a TOTP code once: a replay is refused", async () => {
    const user = await enrolledUser(app);
    const code = totp(user.secret, Date.now() + 30_000);
    const first = await post(app, "/v1/auth/login", { email: user.email, password: PASSWORD, code });
    expect(first.statusCode).toBe(200);
    const replay = await post(app, "/v1/auth/login", { email: user.email, password: PASSWORD, code });
    expect(replay.statusCode).toBe(401);
    expect(replay.json().code).toBe("INVALID_TWO_FACTOR_CODE");
  });

  it("accepts exactly one of 20 parallel logins with the same code", async () => {
    const user = await enrolledUser(app);
    const code = totp(user.secret, Date.now() + 30_000);
    // From 20 addresses, so the per-address limits on password checks let every attempt reach the code.
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        app.inject({
          method: "POST",
          url: "/v1/auth/login",
          payload: { email: user.email, password: PASSWORD, code },
          remoteAddress: `10.88.${i}.1`,
        }),
      ),
    );
    expect(results.filter((r) => r.statusCode === 200)).toHaveLength(1);
    expect(results.filter((r) => r.statusCode === 401)).toHaveLength(19);
  });

  it("starts no session for an account changed while its password was being checked, and keeps the code usable", async () => {
    const user = await enrolledUser(app);
    const code = totp(user.secret, Date.now() + 30_000);
    const sessionsBefore = await app.db.session.count({ where: { userId: user.userId } });
    const enter = app.passwords.enter;
    const during = async (change: () => Promise<unknown>, secondFactor = code) => {
      // An administrator's change lands between the login's read of the account and its session.
      app.passwords.enter = (address) => {
        const check = enter(address);
        return {
          ...check,
          async verify(hash, password) {
            const ok = await check.verify(hash, password);
            await change();
            return ok;
          },
        };
      };
      try {
        return await post(app, "/v1/auth/login", { email: user.email, password: PASSWORD, code: secondFactor });
      } finally {
        app.passwords.enter = enter;
      }
    };

    // New claims (a role or permission change moves tokensNotBefore): the session would carry stale ones.
    const moved = await during(() =>
      app.db.user.update({ where: { id: user.userId }, data: { tokensNotBefore: new Date() } }),
    );
    expect(moved.statusCode).toBe(409);
    expect(moved.json().code).toBe("CONFLICT");
    // A new password: the one just checked is no longer the account's.
    const newPassword = await during(
      () => app.db.$executeRaw`UPDATE users SET "passwordHash" = "passwordHash" || 'x' WHERE id = ${user.userId}`,
    );
    expect(newPassword.statusCode).toBe(409);
    await app.db.$executeRaw`UPDATE users SET "passwordHash" = left("passwordHash", -1) WHERE id = ${user.userId}`;
    expect(await app.db.session.count({ where: { userId: user.userId } })).toBe(sessionsBefore);

    // Nothing of the refused attempts was kept: the same code still signs in, once.
    const after = await post(app, "/v1/auth/login", { email: user.email, password: PASSWORD, code });
    expect(after.statusCode).toBe(200);
    expect(await app.db.session.count({ where: { userId: user.userId } })).toBe(sessionsBefore + 1);

    // Disabled meanwhile: no session, and the next attempt is told why.
    const disabled = await during(
      () => app.db.user.update({ where: { id: user.userId }, data: { status: "DISABLED" } }),
      user.recoveryCodes[0],
    );
    expect(disabled.statusCode).toBe(409);
    // The recovery code was not used up either.
    expect(await app.db.recoveryCode.count({ where: { userId: user.userId, usedAt: { not: null } } })).toBe(0);
    const next = await post(app, "/v1/auth/login", {
      email: user.email,
      password: PASSWORD,
      code: user.recoveryCodes[0],
    });
    expect(next.statusCode).toBe(403);
    expect(await app.db.session.count({ where: { userId: user.userId } })).toBe(sessionsBefore + 1);
  });

  it("tolerates one time step of drift either way and no more", async () => {
    const user = await enrolledUser(app);
    const step = await currentStepWithTimeLeft(6_000);
    // Each code is made at the middle of its step: `offset` steps from the server's.
    const login = (offset: number) =>
      post(app, "/v1/auth/login", {
        email: user.email,
        password: PASSWORD,
        code: totp(user.secret, (step + offset) * TOTP_STEP_MS + TOTP_STEP_MS / 2),
      });
    for (const offset of [3, 2, -2, -3]) {
      const refused = await login(offset);
      expect(refused.statusCode, `${offset} steps`).toBe(401);
      expect(refused.json().code).toBe("INVALID_TWO_FACTOR_CODE");
    }
    // Set-up used the current step, and only a later one passes: forgotten, so the step before is no replay.
    await app.db.totpEnrolment.update({ where: { userId: user.userId }, data: { lastUsedStep: null } });
    expect((await login(-1)).statusCode).toBe(200);
    expect((await login(1)).statusCode).toBe(200);
    expect(Math.floor(Date.now() / TOTP_STEP_MS), "the step changed during the test").toBe(step);
  });

  it("accepts each recovery code once, in any case and spacing", async () => {
    const user = await enrolledUser(app);
    const [code] = user.recoveryCodes;
    const typed = code?.toLowerCase().replace("-", " ");
    const first = await post(app, "/v1/auth/login", { email: user.email, password: PASSWORD, code: typed });
    expect(first.statusCode).toBe(200);
    const again = await post(app, "/v1/auth/login", { email: user.email, password: PASSWORD, code });
    expect(again.statusCode).toBe(401);
    expect(again.json().code).toBe("INVALID_TWO_FACTOR_CODE");
  });

  it("stores recovery codes under a keyed hash, not a plain digest anyone with the table can brute-force (finding 11)", async () => {
    const user = await enrolledUser(app);
    const rows = await app.db.recoveryCode.findMany({ where: { userId: user.userId } });
    expect(rows).toHaveLength(user.recoveryCodes.length);
    const stored = new Set(rows.map((r) => r.codeHash));
    for (const code of user.recoveryCodes) {
      const normalized = code.replace(/[\s-]/g, "").toUpperCase();
      for (const plain of [code, normalized, code.toLowerCase(), normalized.toLowerCase()]) {
        expect(stored.has(sha256Hex(plain))).toBe(false);
      }
    }
  });

  it("keeps the set-up token to the set-up routes, and access tokens out of them", async () => {
    const org = await registerOrganization(app);
    const { setupToken } = (await post(app, "/v1/auth/login", { email: org.email, password: PASSWORD })).json();
    expect((await post(app, "/v1/auth/verify-token", undefined, setupToken)).statusCode).toBe(401);
    expect((await post(app, "/v1/auth/logout", undefined, setupToken)).statusCode).toBe(401);

    const user = await enrolledUser(app);
    const { token } = await loginAs(app, user);
    const res = await post(app, "/v1/auth/2fa/setup", undefined, token);
    expect(res.statusCode).toBe(401);
  });

  it("refuses forged, expired and missing tokens at verify-token", async () => {
    const user = await enrolledUser(app);
    const { token } = await loginAs(app, user);
    const [h, p, s] = token.split(".");
    const claims = decodeJwt(token);
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, head: true, internal: true })).toString("base64url")}.${s}`;
    const anHourAgo = new TokenService(app.signingKeys, app.tokens.issuer, () => Date.now() - 3_600_000);
    const expired = await anHourAgo.sign(
      { sid: claims.sid },
      { typ: "at+jwt", audience: "ipaas-dashboard", subject: user.userId, ttlSeconds: 900 },
    );
    for (const bad of [forged, `${h}.${p}.`, "not-a-token", expired.token]) {
      const res = await post(app, "/v1/auth/verify-token", undefined, bad);
      expect(res.statusCode, bad).toBe(401);
      expect(res.json().code).toBe("INVALID_TOKEN");
    }
    // The same session with a fresh token is fine: the refusals above are about the tokens.
    expect((await post(app, "/v1/auth/verify-token", undefined, token)).statusCode).toBe(200);
    const missing = await app.inject({ method: "POST", url: "/v1/auth/verify-token" });
    expect(missing.statusCode).toBe(401);
  });
});

describe("sessions", () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildDashboard();
  });
  afterAll(() => app.close());

  it("rotates the refresh token, and a reused one ends the whole session", async () => {
    const user = await enrolledUser(app);
    const first = await loginAs(app, user);
    const second = (await post(app, "/v1/auth/refresh", { refreshToken: first.refreshToken })).json();
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect((await post(app, "/v1/auth/verify-token", undefined, second.token)).statusCode).toBe(200);

    const reuse = await post(app, "/v1/auth/refresh", { refreshToken: first.refreshToken });
    expect(reuse.statusCode).toBe(401);
    expect(reuse.json().code).toBe("INVALID_REFRESH_TOKEN");
    // The thief's and the owner's tokens die together.
    expect((await post(app, "/v1/auth/refresh", { refreshToken: second.refreshToken })).statusCode).toBe(401);
    expect((await post(app, "/v1/auth/verify-token", undefined, second.token)).statusCode).toBe(401);
    expect((await post(app, "/v1/auth/verify-token", undefined, first.token)).statusCode).toBe(401);
    const audit = await app.db.auditEvent.findFirst({
      where: { actorId: user.userId, action: "auth.refresh_token_reused" },
    });
    expect(audit?.outcome).toBe("failure");
  });

  it("ends the session at logout: the access token stops verifying at once", async () => {
    const user = await enrolledUser(app);
    const { token, refreshToken } = await loginAs(app, user);
    const other = await loginAs(app, user);
    expect((await post(app, "/v1/auth/logout", undefined, token)).statusCode).toBe(200);
    expect((await post(app, "/v1/auth/verify-token", undefined, token)).statusCode).toBe(401);
    expect((await post(app, "/v1/auth/refresh", { refreshToken })).statusCode).toBe(401);
    // Only that session: the user's other session goes on.
    expect((await post(app, "/v1/auth/verify-token", undefined, other.token)).statusCode).toBe(200);
  });

  it("refuses the token of a deleted or disabled user, and of a suspended tenant", async () => {
    for (const change of ["deleted", "disabled", "suspended"] as const) {
      const user = await enrolledUser(app);
      const { token } = await loginAs(app, user);
      const row = await app.db.user.findUniqueOrThrow({ where: { id: user.userId } });
      if (change === "deleted") await app.db.user.update({ where: { id: row.id }, data: { deletedAt: new Date() } });
      if (change === "disabled") await app.db.user.update({ where: { id: row.id }, data: { status: "DISABLED" } });
      if (change === "suspended") {
        await app.db.tenant.update({ where: { id: row.tenantId }, data: { status: "SUSPENDED" } });
      }
      const res = await post(app, "/v1/auth/verify-token", undefined, token);
      expect(res.statusCode, change).toBe(401);
    }
  });

  it("refuses a session past its idle timeout", async () => {
    const user = await enrolledUser(app);
    const { token } = await loginAs(app, user);
    await app.db.session.updateMany({
      where: { userId: user.userId },
      data: { idleExpiresAt: new Date(Date.now() - 1) },
    });
    expect((await post(app, "/v1/auth/verify-token", undefined, token)).statusCode).toBe(401);
  });

  it("ends a session 24 h after login and after 60 min unused by default, and configuration may not lengthen either", async () => {
    const user = await enrolledUser(app);
    const before = Date.now();
    await loginAs(app, user);
    const after = Date.now();
    const session = await app.db.session.findFirstOrThrow({
      where: { userId: user.userId },
      include: { refreshTokens: true },
    });
    const HOUR = 3_600_000;
    expect(session.absoluteExpiresAt.getTime()).toBeGreaterThanOrEqual(before + 24 * HOUR);
    expect(session.absoluteExpiresAt.getTime()).toBeLessThanOrEqual(after + 24 * HOUR);
    expect(session.idleExpiresAt.getTime()).toBeGreaterThanOrEqual(before + HOUR);
    expect(session.idleExpiresAt.getTime()).toBeLessThanOrEqual(after + HOUR);
    expect(session.refreshTokens.map((t) => t.expiresAt)).toEqual([session.absoluteExpiresAt]);

    // NIST SP 800-63B §2.2.3 (AAL2): re-authentication at least every 24 h, after at most 1 h of inactivity.
    const load = (env: Record<string, string>) => testConfig(env, dashboardConfig.load);
    expect(load({})).toMatchObject({ SESSION_ABSOLUTE_HOURS: 24, SESSION_IDLE_MINUTES: 60 });
    expect(load({ SESSION_ABSOLUTE_HOURS: "24", SESSION_IDLE_MINUTES: "60" })).toMatchObject({
      SESSION_ABSOLUTE_HOURS: 24,
      SESSION_IDLE_MINUTES: 60,
    });
    const longer = { SESSION_ABSOLUTE_HOURS: "25", SESSION_IDLE_MINUTES: "61" };
    expect(() => load(longer)).toThrow(ConfigError);
    const { code, stderr } = await startServer(longer);
    expect(code).toBe(1);
    expect(stderr).toContain("dashboard-auth refused to start");
    expect(stderr).toContain("SESSION_ABSOLUTE_HOURS: must be <= 24");
    expect(stderr).toContain("SESSION_IDLE_MINUTES: must be <= 60");
  });

  it("refuses a session past its absolute lifetime, however recently it was used, and its refresh token too", async () => {
    // Time is moved by hand in the database, which no cached view of the session would hear of (a real
    // session only ever reaches its end by time passing): this app keeps no view.
    const uncached = await buildDashboard({ SESSION_VIEW_TTL_SECONDS: "0" });
    try {
      const user = await enrolledUser(uncached);
      const session = await loginAs(uncached, user);
      expect((await post(uncached, "/v1/auth/verify-token", undefined, session.token)).statusCode).toBe(200);
      await uncached.db.session.updateMany({
        where: { userId: user.userId },
        data: { absoluteExpiresAt: new Date(Date.now() - 1), idleExpiresAt: new Date(Date.now() + 3_600_000) },
      });
      expect((await post(uncached, "/v1/auth/verify-token", undefined, session.token)).statusCode).toBe(401);
      const refresh = await post(uncached, "/v1/auth/refresh", { refreshToken: session.refreshToken });
      expect(refresh.statusCode).toBe(401);
    } finally {
      await uncached.close();
    }
  });
});

const TOTP_STEP_MS = 30_000;

/**
 * The current TOTP time step once at least `leftMs` of it remains (waiting for the next step if need be),
 * so the server reads the same step for the requests that follow.
 */
async function currentStepWithTimeLeft(leftMs: number): Promise<number> {
  const left = TOTP_STEP_MS - (Date.now() % TOTP_STEP_MS);
  if (left < leftMs) await new Promise((resolve) => setTimeout(resolve, left + 50));
  return Math.floor(Date.now() / TOTP_STEP_MS);
}

/** Starts the service's server process with these settings and waits for it to exit. */
async function startServer(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", fileURLToPath(new URL("../src/server.ts", import.meta.url))],
    {
      env: { PATH: process.env.PATH, ENV_FILE: "none", NODE_ENV: "test", MASTER_KEY: TEST_MASTER_KEY, ...env },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  return { code, stderr };
}
