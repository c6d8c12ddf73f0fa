// The token endpoint against a hostile or careless caller: encodings, enumeration, unusable
// organizations, secret rotation and what reaches the logs; introspection of tokens with impossible times.

import { hashClientSecret } from "@ipaas/domain";
import {
  basic,
  buildApiAuth,
  FORM,
  form,
  formEncode,
  introspect,
  LogCapture,
  newOrganization,
  requestToken,
} from "@ipaas/testing";
import type { FastifyInstance } from "fastify";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiConfig } from "../src/config";

/** The settings the test app runs with: the defaults. */
const DEFAULTS = apiConfig.load({ NODE_ENV: "test" });

describe("POST /v1/auth/token security", () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildApiAuth();
  });
  afterAll(async () => {
    await app.close();
  });

  async function setSecret(organizationId: string, secret: string) {
    await app.db.organizationCredential.update({
      where: { tenantId: organizationId },
      data: { secretHash: hashClientSecret(secret) },
    });
    app.clients.invalidateOrganization(organizationId);
  }

  it("accepts a secret with URL-special characters form-encoded inside Basic (RFC 6749 §2.3.1)", async () => {
    const org = await newOrganization(app);
    const secret = "a/b=c?d:e%f+g h";
    await setSecret(org.id, secret);
    const res = await requestToken(app, { clientKey: org.clientKey, clientSecret: secret });
    expect(res.statusCode).toBe(200);
    // The same secret sent raw (not form-encoded) inside Basic is a different secret.
    const raw = `Basic ${Buffer.from(`${org.clientKey}:${secret}`).toString("base64")}`;
    const refused = await app.inject({
      method: "POST",
      url: "/v1/auth/token",
      headers: { ...FORM, authorization: raw },
      payload: form({ grant_type: "client_credentials" }),
    });
    expect(refused.statusCode).toBe(401);
  });

  it("accepts the same secret through client_secret_post", async () => {
    const org = await newOrganization(app);
    const secret = "a/b=c?d:e%f+g h";
    await setSecret(org.id, secret);
    const res = await app.inject({
      method: "POST",
      url: "/v1/auth/token",
      headers: FORM,
      payload: `grant_type=client_credentials&client_id=${formEncode(org.clientKey)}&client_secret=${formEncode(secret)}`,
    });
    expect(res.statusCode).toBe(200);
  });

  it("refuses credentials in the query string even when the body is otherwise valid", async () => {
    const org = await newOrganization(app);
    const res = await app.inject({
      method: "POST",
      url: `/v1/auth/token?client_secret=${org.clientSecret}`,
      headers: { ...FORM, authorization: basic(org.clientKey, org.clientSecret) },
      payload: form({ grant_type: "client_credentials" }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe("invalid_request");
  });

  it("refuses a duplicated parameter rather than picking one of its values", async () => {
    const org = await newOrganization(app, { scopes: ["read_bills", "admin"] });
    for (const payload of [
      `grant_type=client_credentials&scope=read_bills&scope=admin`,
      `grant_type=client_credentials&client_id=${org.clientKey}&client_secret=${org.clientSecret}&client_secret=x`,
    ]) {
      const res = await app.inject({ method: "POST", url: "/v1/auth/token", headers: FORM, payload });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe("invalid_request");
    }
  });

  it("answers a wrong secret and an unknown client identically, so keys cannot be enumerated", async () => {
    const org = await newOrganization(app);
    const wrong = await requestToken(app, { clientKey: org.clientKey, clientSecret: "guess" });
    const unknown = await requestToken(app, {
      clientKey: "7f1d3c52-1111-4a4a-9999-000000000000",
      clientSecret: "guess",
    });
    for (const res of [wrong, unknown]) expect(res.statusCode).toBe(401);
    expect(unknown.body).toBe(wrong.body);
    expect(unknown.headers["www-authenticate"]).toBe(wrong.headers["www-authenticate"]);
  });

  it("refuses a suspended organization with the same invalid_client as a wrong secret", async () => {
    const org = await newOrganization(app, { status: "SUSPENDED" });
    const res = await requestToken(app, org);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: "invalid_client", error_description: "client authentication failed" });
  });

  it("refuses a deleted organization with invalid_client", async () => {
    const org = await newOrganization(app, { deleted: true });
    const res = await requestToken(app, org);
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe("invalid_client");
  });

  it("audits a failed authentication without the secret", async () => {
    const org = await newOrganization(app);
    await requestToken(app, { clientKey: org.clientKey, clientSecret: "audited-wrong-secret" });
    const events = await app.db.auditEvent.findMany({ where: { tenantId: org.id } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: "oauth.client_authentication",
      outcome: "failure",
      actorType: "client",
      details: { endpoint: "token", method: "client_secret_basic", reason: "wrong_secret" },
    });
    expect(JSON.stringify(events)).not.toContain("audited-wrong-secret");
  });

  describe("secret rotation", () => {
    async function rotate(organizationId: string, previousSecretExpiresAt: Date | null) {
      const current = await app.db.organizationCredential.findUniqueOrThrow({ where: { tenantId: organizationId } });
      const newSecret = `rotated-${organizationId}`;
      await app.db.organizationCredential.update({
        where: { tenantId: organizationId },
        data: {
          secretHash: hashClientSecret(newSecret),
          previousSecretHash: current.secretHash,
          previousSecretExpiresAt,
          version: { increment: 1 },
        },
      });
      app.clients.invalidateOrganization(organizationId);
      return newSecret;
    }

    it("honours the previous secret while its grace period lasts, and the new one", async () => {
      const org = await newOrganization(app);
      const newSecret = await rotate(org.id, new Date(Date.now() + 60_000));
      expect((await requestToken(app, org)).statusCode).toBe(200);
      expect((await requestToken(app, { clientKey: org.clientKey, clientSecret: newSecret })).statusCode).toBe(200);
    });

    it("refuses the previous secret once its grace period is over", async () => {
      const org = await newOrganization(app);
      const newSecret = await rotate(org.id, new Date(Date.now() - 1_000));
      expect((await requestToken(app, org)).statusCode).toBe(401);
      expect((await requestToken(app, { clientKey: org.clientKey, clientSecret: newSecret })).statusCode).toBe(200);
    });

    it("refuses the previous secret when the rotation gave it no grace period", async () => {
      const org = await newOrganization(app);
      await rotate(org.id, null);
      expect((await requestToken(app, org)).statusCode).toBe(401);
    });
  });
});

// Regression: introspection called a token active whatever its iat and lifetime, so a token signed with this
// service's key could be dated ahead or given years of life.
describe("introspection of tokens with this service's signature but impossible times", () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildApiAuth();
  });
  afterAll(async () => {
    await app.close();
  });

  /** Exactly the claims api-auth gives this client, with the chosen times, signed with api-auth's own key. */
  async function forge(org: { id: string; clientKey: string }, times: { iat: number; exp: number }) {
    const key = app.signingKeys.signingKey();
    return new SignJWT({
      iss: app.tokens.issuer,
      sub: org.id,
      aud: DEFAULTS.API_TOKEN_AUDIENCE,
      client_id: org.clientKey,
      scope: "read_bills",
      jti: `jti_forged_${crypto.randomUUID()}`,
      ...times,
    })
      .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid: key.kid })
      .sign(key.privateKey);
  }
  const now = () => Math.floor(Date.now() / 1000);
  const ttl = () => DEFAULTS.API_TOKEN_TTL_SECONDS;

  it("answers active for a forged token with the times api-auth gives (so the refusals below mean something)", async () => {
    const org = await newOrganization(app);
    const res = await introspect(app, org, await forge(org, { iat: now(), exp: now() + ttl() }));
    expect(res.json()).toMatchObject({ active: true, scope: "read_bills" });
  });

  it("answers only active: false for a token issued in the future", async () => {
    const org = await newOrganization(app);
    const res = await introspect(app, org, await forge(org, { iat: now() + 600, exp: now() + 600 + ttl() }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ active: false });
  });

  it("answers only active: false for a token that lives longer than api-auth's tokens", async () => {
    const org = await newOrganization(app);
    const res = await introspect(app, org, await forge(org, { iat: now(), exp: now() + ttl() + 60 }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ active: false });
  });
});

describe("api-auth logs", () => {
  it("never contain a client secret, whatever the request looks like", async () => {
    const logs = new LogCapture();
    const app = await buildApiAuth({ env: { LOG_LEVEL: "trace" }, logs });
    try {
      const org = await newOrganization(app);
      const special = "log-sentinel/=?:%+ secret";
      const swapped = "swapped-into-the-id-field-sentinel";
      const post = (url: string, headers: Record<string, string>, payload: string | object) =>
        app.inject({ method: "POST", url, headers, payload });
      const grant = { grant_type: "client_credentials" };
      const withBasic = (secret: string) => ({ ...FORM, authorization: basic(org.clientKey, secret) });

      await post("/v1/auth/token", withBasic(org.clientSecret), form(grant));
      await post("/v1/auth/token", {}, { client_key: org.clientKey, client_secret: org.clientSecret });
      await post("/v1/auth/token", FORM, form({ ...grant, client_id: org.clientKey, client_secret: special }));
      await post("/v1/auth/token", FORM, form({ ...grant, client_id: swapped, client_secret: org.clientKey }));
      await post(`/v1/auth/token?client_secret=${encodeURIComponent(special)}`, FORM, form(grant));
      await post("/v1/auth/token", { "content-type": "application/json" }, `{"client_secret":"${special}", broken`);
      await post("/v1/auth/introspect", withBasic(special), form({ token: "t" }));
      await post("/v1/auth/revoke", FORM, form({ token: "t", client_id: org.clientKey, client_secret: special }));

      expect(logs.text).toMatch(/issued a partner access token/);
      expect(logs.text).toMatch(/client authentication failed/);
      for (const secret of [org.clientSecret, special, encodeURIComponent(special), formEncode(special), swapped]) {
        expect(logs.text).not.toContain(secret);
      }
      expect(logs.text).not.toContain(basic(org.clientKey, org.clientSecret).slice("Basic ".length));
    } finally {
      await app.close();
    }
  });
});
