import { SigningKeyStore, TokenService } from "@ipaas/service-kit";
import { buildDashboard, enrolledUser, loginAs, post, TcpProxy, waitFor } from "@ipaas/testing";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

describe("token kinds and failures", () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildDashboard();
  });
  afterAll(() => app.close());

  it("refuses a partner token or any other service's token at verify-token", async () => {
    // api-auth's keys live in the same database but belong to another service and issuer.
    const partnerKeys = new SigningKeyStore(app.db, app.masterKey, "api-auth", {
      rotationDays: 30,
      publishLeadSeconds: 3600,
      maxTokenTtlSeconds: 3600,
    });
    await partnerKeys.init();
    const partner = await new TokenService(partnerKeys, "http://localhost:7006").sign(
      { client_id: "ck", scope: "read_bills" },
      { typ: "at+jwt", audience: "ipaas-partner-api", subject: "org_x", ttlSeconds: 60 },
    );
    const res = await post(app, "/v1/auth/verify-token", undefined, partner.token);
    expect(res.statusCode).toBe(401);
    // Even signed with this service's own key, a token for another audience is refused.
    const user = await enrolledUser(app);
    const { token } = await loginAs(app, user);
    const sid = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()).sid;
    const wrongAudience = await app.tokens.sign(
      { sid },
      { typ: "at+jwt", audience: "ipaas-partner-api", subject: "x", ttlSeconds: 60 },
    );
    expect((await post(app, "/v1/auth/verify-token", undefined, wrongAudience.token)).statusCode).toBe(401);
  });
});

describe("fail closed", () => {
  it("answers 5xx, never success, when the database is unreachable during verification and login", async () => {
    const db = new URL(inject("databaseUrl"));
    const proxy = await TcpProxy.create({ host: db.hostname, port: Number(db.port || 5432) });
    db.port = String(proxy.port);
    // Every request reads the database here; the test below covers the sessions held in memory.
    const app = await buildDashboard({ DATABASE_URL: db.toString(), SESSION_VIEW_TTL_SECONDS: "0" });
    try {
      const user = await enrolledUser(app);
      const { token } = await loginAs(app, user);
      expect((await post(app, "/v1/auth/verify-token", undefined, token)).statusCode).toBe(200);
      await proxy.stop();
      const verify = await post(app, "/v1/auth/verify-token", undefined, token);
      expect(verify.statusCode).toBeGreaterThanOrEqual(500);
      expect(verify.json()).not.toHaveProperty("success");
      const login = await post(app, "/v1/auth/login", {
        email: user.email,
        password: user.password,
        code: user.recoveryCodes[0],
      });
      expect(login.statusCode).toBeGreaterThanOrEqual(500);
      expect(login.json()).not.toHaveProperty("token");
    } finally {
      await app.close();
      await proxy.stop();
    }
  });

  it("stops answering from memory once it notices the database is gone, and fails closed", async () => {
    const db = new URL(inject("databaseUrl"));
    const proxy = await TcpProxy.create({ host: db.hostname, port: Number(db.port || 5432) });
    db.port = String(proxy.port);
    const app = await buildDashboard({ DATABASE_URL: db.toString() });
    try {
      const user = await enrolledUser(app);
      const { token } = await loginAs(app, user);
      await waitFor("the session view live", () => app.sessionView.live, 15_000, 20);
      expect((await post(app, "/v1/auth/verify-token", undefined, token)).statusCode).toBe(200);
      expect(app.sessionView.size).toBeGreaterThan(0);
      await proxy.stop();
      await waitFor("the instance noticing", () => !app.databaseLinked(), 10_000, 5);
      expect(app.sessionView.live).toBe(false);
      const verify = await post(app, "/v1/auth/verify-token", undefined, token);
      expect(verify.statusCode).toBeGreaterThanOrEqual(500);
      expect(verify.json()).not.toHaveProperty("success");
    } finally {
      await app.close();
      await proxy.stop();
    }
  });
});
