// POST /v1/auth/revoke (RFC 7009): a client revokes its own tokens; the answer never says more than 200.

import {
  basic,
  buildApiAuth,
  decodeJwt,
  FORM,
  form,
  introspect,
  newOrganization,
  revoke,
  tokenFor,
} from "@ipaas/testing";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("POST /v1/auth/revoke", () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildApiAuth();
  });
  afterAll(async () => {
    await app.close();
  });

  it("revokes the caller's token: introspection says inactive from then on", async () => {
    const org = await newOrganization(app);
    const token = await tokenFor(app, org);
    expect((await introspect(app, org, token)).json().active).toBe(true);

    const res = await revoke(app, org, token);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({});
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.headers["cache-control"]).toBe("no-store");
    expect((await introspect(app, org, token)).json()).toEqual({ active: false });
  });

  it("keeps the revoked token id until the token would have expired, and audits the revocation", async () => {
    const org = await newOrganization(app);
    const token = await tokenFor(app, org);
    await revoke(app, org, token);
    const { jti, exp } = decodeJwt(token).payload;
    const row = await app.db.revokedToken.findUniqueOrThrow({ where: { jti: String(jti) } });
    expect(row.subject).toBe(org.id);
    expect(row.expiresAt.getTime()).toBe(Number(exp) * 1000);
    const audit = await app.db.auditEvent.findFirstOrThrow({
      where: { tenantId: org.id, action: "oauth.token_revoked" },
    });
    expect(audit).toMatchObject({ outcome: "success", targetType: "access_token", targetId: jti });
  });

  it("leaves other tokens of the same client active", async () => {
    const org = await newOrganization(app);
    const first = await tokenFor(app, org);
    const second = await tokenFor(app, org);
    await revoke(app, org, first);
    expect((await introspect(app, org, second)).json().active).toBe(true);
  });

  it("answers 200 to revoking the same token twice", async () => {
    const org = await newOrganization(app);
    const token = await tokenFor(app, org);
    expect((await revoke(app, org, token)).statusCode).toBe(200);
    expect((await revoke(app, org, token)).statusCode).toBe(200);
  });

  it("answers 200 for an unknown or invalid token", async () => {
    const org = await newOrganization(app);
    for (const token of ["unknown-token", "a.b.c"]) {
      const res = await revoke(app, org, token);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({});
    }
  });

  it("does not let a client revoke another client's token: 200, and the token stays active", async () => {
    const victim = await newOrganization(app);
    const attacker = await newOrganization(app);
    const token = await tokenFor(app, victim);
    const res = await revoke(app, attacker, token);
    expect(res.statusCode).toBe(200);
    expect((await introspect(app, victim, token)).json().active).toBe(true);
    const jti = String(decodeJwt(token).payload.jti);
    expect(await app.db.revokedToken.findUnique({ where: { jti } })).toBeNull();
  });

  it("accepts client_secret_post", async () => {
    const org = await newOrganization(app);
    const token = await tokenFor(app, org);
    const res = await app.inject({
      method: "POST",
      url: "/v1/auth/revoke",
      headers: FORM,
      payload: form({ token, client_id: org.clientKey, client_secret: org.clientSecret }),
    });
    expect(res.statusCode).toBe(200);
    expect((await introspect(app, org, token)).json().active).toBe(false);
  });

  it("refuses an unauthenticated caller with 401 invalid_client and revokes nothing", async () => {
    const org = await newOrganization(app);
    const token = await tokenFor(app, org);
    const res = await app.inject({ method: "POST", url: "/v1/auth/revoke", headers: FORM, payload: form({ token }) });
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe("invalid_client");
    expect((await introspect(app, org, token)).json().active).toBe(true);
  });

  it("refuses a request without a token with invalid_request", async () => {
    const org = await newOrganization(app);
    const res = await app.inject({
      method: "POST",
      url: "/v1/auth/revoke",
      headers: { ...FORM, authorization: basic(org.clientKey, org.clientSecret) },
      payload: form({ token_type_hint: "access_token" }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe("invalid_request");
  });
});
