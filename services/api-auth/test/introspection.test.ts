// POST /v1/auth/introspect: active only for the calling client's own valid token; everything else is
// { active: false } and nothing more.
import { SigningKeyStore, TokenService } from "@ipaas/service-kit";
import { basic, buildApiAuth, FORM, form, introspect, newOrganization, tokenFor } from "@ipaas/testing";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** Another issuer of this platform (dashboard-auth's default): its tokens are not api-auth's. */
const DASHBOARD_ISSUER = "http://localhost:7005";

const AUDIENCE = "ipaas-partner-api";

describe("POST /v1/auth/introspect", () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildApiAuth();
  });
  afterAll(async () => {
    await app.close();
  });

  async function expectInactive(client: { clientKey: string; clientSecret: string }, token: string) {
    const res = await introspect(app, client, token);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ active: false });
    expect(res.headers["cache-control"]).toBe("no-store");
  }

  /** A token with exactly the claims api-auth would give this client, signed by `tokens`. */
  async function mint(
    tokens: TokenService,
    org: { id: string; clientKey: string },
    options: { typ?: string; audience?: string; ttlSeconds?: number } = {},
  ) {
    return (
      await tokens.sign(
        { client_id: org.clientKey, scope: "read_bills" },
        {
          typ: options.typ ?? "at+jwt",
          audience: options.audience ?? AUDIENCE,
          subject: org.id,
          ttlSeconds: options.ttlSeconds ?? 300,
        },
      )
    ).token;
  }

  describe("happy path", () => {
    it("describes an active token of the calling client", async () => {
      const org = await newOrganization(app, { scopes: ["read_bills", "read_packs"] });
      const token = await tokenFor(app, org, { scope: "read_bills" });
      const res = await introspect(app, org, token);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(Object.keys(body).sort()).toEqual(
        ["active", "aud", "client_id", "exp", "iat", "iss", "jti", "scope", "sub", "token_type"].sort(),
      );
      expect(body).toMatchObject({
        active: true,
        scope: "read_bills",
        client_id: org.clientKey,
        sub: org.id,
        aud: AUDIENCE,
        iss: app.tokens.issuer,
        token_type: "Bearer",
      });
      expect(body.exp - body.iat).toBe(3600);
      expect(body.jti).toMatch(/^jti_/);
    });

    it("accepts client_secret_post and the seed's client_key name", async () => {
      const org = await newOrganization(app);
      const token = await tokenFor(app, org);
      for (const idField of ["client_id", "client_key"]) {
        const res = await app.inject({
          method: "POST",
          url: "/v1/auth/introspect",
          headers: FORM,
          payload: form({ token, [idField]: org.clientKey, client_secret: org.clientSecret }),
        });
        expect(res.json().active).toBe(true);
      }
    });

    it("treats a correctly minted token of the caller as active (so the refusals below mean something)", async () => {
      const org = await newOrganization(app);
      const res = await introspect(app, org, await mint(app.tokens, org));
      expect(res.json().active).toBe(true);
    });

    it("keeps a token asked for right after the credential's tokensNotBefore active", async () => {
      const org = await newOrganization(app);
      await app.db.organizationCredential.update({
        where: { tenantId: org.id },
        data: { tokensNotBefore: new Date() },
      });
      app.clients.invalidateOrganization(org.id);
      const token = await tokenFor(app, org);
      expect((await introspect(app, org, token)).json().active).toBe(true);
    });
  });

  // Regression: a scope removed from the organization stayed active in every token already issued with it,
  // until those tokens expired.
  describe("scopes withdrawn from the organization", () => {
    /** Changes the organization's scopes as the dashboard does (a new version), and drops the cached client. */
    async function setOrganizationScopes(organizationId: string, scopes: string[]) {
      await app.db.tenant.update({ where: { id: organizationId }, data: { scopes, version: { increment: 1 } } });
      app.clients.invalidateOrganization(organizationId);
    }

    it("answers only the token's scopes that the organization still holds", async () => {
      const org = await newOrganization(app, { scopes: ["read_bills", "read_packs"] });
      const token = await tokenFor(app, org, { scope: "read_bills read_packs" });
      expect((await introspect(app, org, token)).json()).toMatchObject({
        active: true,
        scope: "read_bills read_packs",
      });

      await setOrganizationScopes(org.id, ["read_bills"]);
      const res = await introspect(app, org, token);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ active: true, scope: "read_bills", client_id: org.clientKey, sub: org.id });
    });

    it("never widens a token with a scope the organization gained after it was issued", async () => {
      const org = await newOrganization(app, { scopes: ["read_bills"] });
      const token = await tokenFor(app, org);
      await setOrganizationScopes(org.id, ["read_bills", "read_packs"]);
      expect((await introspect(app, org, token)).json()).toMatchObject({ active: true, scope: "read_bills" });
    });

    it("says inactive once the organization holds none of the token's scopes", async () => {
      const org = await newOrganization(app, { scopes: ["read_bills", "read_packs"] });
      const token = await tokenFor(app, org, { scope: "read_bills read_packs" });
      const other = await tokenFor(app, org, { scope: "read_packs" });

      await setOrganizationScopes(org.id, ["read_bills"]);
      await expectInactive(org, other);
      await setOrganizationScopes(org.id, []);
      await expectInactive(org, token);
    });
  });

  describe("errors", () => {
    it("refuses an unauthenticated caller with 401 invalid_client", async () => {
      const org = await newOrganization(app);
      const token = await tokenFor(app, org);
      const res = await app.inject({
        method: "POST",
        url: "/v1/auth/introspect",
        headers: FORM,
        payload: form({ token }),
      });
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toBe("invalid_client");
      expect(res.headers["www-authenticate"]).toMatch(/^Basic /);
    });

    it("refuses a caller with a wrong secret with 401 invalid_client", async () => {
      const org = await newOrganization(app);
      const token = await tokenFor(app, org);
      const res = await introspect(app, { clientKey: org.clientKey, clientSecret: "wrong" }, token);
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toBe("invalid_client");
    });

    it("refuses a request without a token with invalid_request", async () => {
      const org = await newOrganization(app);
      const res = await app.inject({
        method: "POST",
        url: "/v1/auth/introspect",
        headers: { ...FORM, authorization: basic(org.clientKey, org.clientSecret) },
        payload: form({ token_type_hint: "access_token" }),
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe("invalid_request");
    });
  });

  describe("inactive tokens", () => {
    it("says only active: false for garbage and unknown tokens", async () => {
      const org = await newOrganization(app);
      for (const token of ["not-a-token", "a.b.c", "x".repeat(10_000), "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."]) {
        await expectInactive(org, token);
      }
    });

    it("says inactive for an expired token", async () => {
      const org = await newOrganization(app);
      await expectInactive(org, await mint(app.tokens, org, { ttlSeconds: -60 }));
    });

    it("says inactive for a token whose payload was altered", async () => {
      const org = await newOrganization(app, { scopes: ["read_bills", "admin"] });
      const [header, payload, signature] = (await tokenFor(app, org, { scope: "read_bills" })).split(".");
      const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString("utf8"));
      const widened = Buffer.from(JSON.stringify({ ...claims, scope: "read_bills admin" })).toString("base64url");
      await expectInactive(org, `${header}.${widened}.${signature}`);
    });

    it("says inactive for another client's token", async () => {
      const mine = await newOrganization(app);
      const theirs = await newOrganization(app);
      await expectInactive(mine, await tokenFor(app, theirs));
    });

    it("says inactive for a dashboard token or an end-user token signed by this service's own keys", async () => {
      const org = await newOrganization(app);
      await expectInactive(org, await mint(app.tokens, org, { typ: "JWT", audience: DASHBOARD_ISSUER }));
      await expectInactive(org, await mint(app.tokens, org, { typ: "JWT", audience: AUDIENCE }));
      await expectInactive(org, await mint(app.tokens, org, { typ: "at+jwt", audience: "ipaas-end-users" }));
      await expectInactive(org, await mint(app.tokens, org, { typ: "user+jwt", audience: "ipaas-end-users" }));
    });

    it("says inactive for a token from another issuer, even with this service's keys", async () => {
      const org = await newOrganization(app);
      const dashboard = new TokenService(app.signingKeys, DASHBOARD_ISSUER);
      await expectInactive(org, await mint(dashboard, org));
    });

    it("says inactive for a token signed with keys this service does not publish", async () => {
      const org = await newOrganization(app);
      const foreignKeys = new SigningKeyStore(app.db, app.masterKey, "foreign-issuer", {
        rotationDays: 30,
        publishLeadSeconds: 0,
        maxTokenTtlSeconds: 3600,
      });
      await foreignKeys.init();
      // Same issuer name and claims: only the key differs.
      await expectInactive(org, await mint(new TokenService(foreignKeys, app.tokens.issuer), org));
    });

    it("says inactive once the organization is suspended", async () => {
      const org = await newOrganization(app);
      const token = await tokenFor(app, org);
      await app.db.tenant.update({ where: { id: org.id }, data: { status: "SUSPENDED", version: { increment: 1 } } });
      app.clients.invalidateOrganization(org.id);
      await expectInactive(org, token);
    });

    it("says inactive once the organization is deleted", async () => {
      const org = await newOrganization(app);
      const token = await tokenFor(app, org);
      await app.db.tenant.update({ where: { id: org.id }, data: { deletedAt: new Date() } });
      app.clients.invalidateOrganization(org.id);
      await expectInactive(org, token);
    });

    it("says inactive for a token issued before the credential's tokensNotBefore", async () => {
      const org = await newOrganization(app);
      const token = await tokenFor(app, org);
      await app.db.organizationCredential.update({
        where: { tenantId: org.id },
        data: { tokensNotBefore: new Date(Date.now() + 1) },
      });
      app.clients.invalidateOrganization(org.id);
      await expectInactive(org, token);
    });
  });
});
