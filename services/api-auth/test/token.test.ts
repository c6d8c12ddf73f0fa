// The token endpoint's successful paths: the seed's JSON contract, the standard form with either client
// authentication method, scope selection and the response headers.

import { basic, buildApiAuth, decodeJwt, FORM, form, newOrganization, requestToken } from "@ipaas/testing";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("POST /v1/auth/token", () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildApiAuth();
  });
  afterAll(async () => {
    await app.close();
  });

  it("answers the seed's JSON request in the seed's shape, plus expires_in", async () => {
    const org = await newOrganization(app, { scopes: ["read_bills", "read_packs"] });
    const before = Date.now();
    const res = await app.inject({
      method: "POST",
      url: "/v1/auth/token",
      payload: { client_key: org.clientKey, client_secret: org.clientSecret, scopes: "read_bills read_packs" },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(["access_token", "created_at", "expires_in", "scope", "token_type"]);
    expect(body.token_type).toBe("Bearer");
    expect(body.scope).toBe("read_bills read_packs");
    expect(body.expires_in).toBe(3600);
    const createdAt = Date.parse(body.created_at);
    expect(createdAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(createdAt).toBeLessThanOrEqual(Date.now());
    expect(body.access_token.split(".")).toHaveLength(3);
  });

  it("accepts the seed's scopes as an array of strings", async () => {
    const org = await newOrganization(app, { scopes: ["read_bills", "read_packs", "pay_bills"] });
    const res = await app.inject({
      method: "POST",
      url: "/v1/auth/token",
      payload: { client_key: org.clientKey, client_secret: org.clientSecret, scopes: ["pay_bills", "read_bills"] },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().scope).toBe("pay_bills read_bills");
  });

  it("accepts a JSON request that names the client_credentials grant", async () => {
    const org = await newOrganization(app);
    const res = await app.inject({
      method: "POST",
      url: "/v1/auth/token",
      payload: { grant_type: "client_credentials", client_key: org.clientKey, client_secret: org.clientSecret },
    });
    expect(res.statusCode).toBe(200);
  });

  it("issues a token for the standard form with client_secret_basic", async () => {
    const org = await newOrganization(app, { scopes: ["read_bills", "read_packs"] });
    const res = await requestToken(app, org, { scope: "read_packs" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ token_type: "Bearer", scope: "read_packs", expires_in: 3600 });
    expect(res.json().refresh_token).toBeUndefined();
  });

  it("issues a token for the standard form with client_secret_post", async () => {
    const org = await newOrganization(app);
    const res = await app.inject({
      method: "POST",
      url: "/v1/auth/token",
      headers: FORM,
      payload: form({ grant_type: "client_credentials", client_id: org.clientKey, client_secret: org.clientSecret }),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().scope).toBe("read_bills read_packs");
  });

  it("accepts a content type with a charset parameter", async () => {
    const org = await newOrganization(app);
    const res = await app.inject({
      method: "POST",
      url: "/v1/auth/token",
      headers: {
        "content-type": "application/x-www-form-urlencoded; charset=UTF-8",
        authorization: basic(org.clientKey, org.clientSecret),
      },
      payload: "grant_type=client_credentials",
    });
    expect(res.statusCode).toBe(200);
  });

  it("grants all of the organization's scopes when none are requested", async () => {
    const org = await newOrganization(app, { scopes: ["a", "b", "c"] });
    const res = await requestToken(app, org);
    expect(res.json().scope).toBe("a b c");
    const empty = await requestToken(app, org, { scope: "" });
    expect(empty.json().scope).toBe("a b c");
  });

  it("grants exactly a requested subset, once each", async () => {
    const org = await newOrganization(app, { scopes: ["a", "b", "c"] });
    const res = await requestToken(app, org, { scope: "c  a c" });
    expect(res.statusCode).toBe(200);
    expect(res.json().scope).toBe("c a");
  });

  it("signs an at+jwt with the RFC 9068 claims naming the organization and its client", async () => {
    const org = await newOrganization(app, { scopes: ["read_bills"] });
    const res = await requestToken(app, org);
    const { header, payload } = decodeJwt(res.json().access_token);
    expect(header).toMatchObject({ alg: "EdDSA", typ: "at+jwt" });
    expect(typeof header.kid).toBe("string");
    expect(payload).toMatchObject({
      iss: app.tokens.issuer,
      sub: org.id,
      aud: "ipaas-partner-api",
      client_id: org.clientKey,
      scope: "read_bills",
    });
    expect(payload.exp).toBe(Number(payload.iat) + 3600);
    expect(payload.jti).toMatch(/^jti_/);
    const verified = await app.tokens.verify(res.json().access_token, {
      typ: ["at+jwt"],
      audience: "ipaas-partner-api",
    });
    expect(verified.claims.sub).toBe(org.id);
  });

  it("marks every answer, success or error, as not to be cached", async () => {
    const org = await newOrganization(app);
    const ok = await requestToken(app, org);
    const refused = await requestToken(app, { ...org, clientSecret: "wrong" });
    for (const res of [ok, refused]) {
      expect(res.headers["cache-control"]).toBe("no-store");
      expect(res.headers.pragma).toBe("no-cache");
    }
  });

  it("writes nothing to the database when it issues a token", async () => {
    const org = await newOrganization(app);
    const auditsBefore = await app.db.auditEvent.count({ where: { tenantId: org.id } });
    const credentialBefore = await app.db.organizationCredential.findUniqueOrThrow({ where: { tenantId: org.id } });
    expect((await requestToken(app, org)).statusCode).toBe(200);
    expect(await app.db.auditEvent.count({ where: { tenantId: org.id } })).toBe(auditsBefore);
    const credentialAfter = await app.db.organizationCredential.findUniqueOrThrow({ where: { tenantId: org.id } });
    expect(credentialAfter.updatedAt).toEqual(credentialBefore.updatedAt);
  });

  it("uses the configured lifetime and audience", async () => {
    const custom = await buildApiAuth({ env: { API_TOKEN_TTL_SECONDS: "120", API_TOKEN_AUDIENCE: "partner-apis" } });
    try {
      const org = await newOrganization(custom);
      const res = await requestToken(custom, org);
      expect(res.json().expires_in).toBe(120);
      const { payload } = decodeJwt(res.json().access_token);
      expect(payload.aud).toBe("partner-apis");
      expect(Number(payload.exp) - Number(payload.iat)).toBe(120);
    } finally {
      await custom.close();
    }
  });

  it("publishes RFC 8414 metadata built from the issuer", async () => {
    const res = await app.inject({ method: "GET", url: "/.well-known/oauth-authorization-server" });
    expect(res.statusCode).toBe(200);
    const issuer = app.tokens.issuer;
    expect(res.json()).toEqual({
      issuer,
      token_endpoint: `${issuer}/v1/auth/token`,
      introspection_endpoint: `${issuer}/v1/auth/introspect`,
      revocation_endpoint: `${issuer}/v1/auth/revoke`,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      grant_types_supported: ["client_credentials"],
      response_types_supported: [],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
      introspection_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
      revocation_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
      service_documentation: `${issuer}/docs`,
    });
  });

  it("documents the OAuth endpoints in the OpenAPI document", async () => {
    const doc = (await app.inject({ method: "GET", url: "/openapi.json" })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/v1/auth/token",
        "/v1/auth/introspect",
        "/v1/auth/revoke",
        "/.well-known/oauth-authorization-server",
      ]),
    );
    expect(Object.keys(doc.paths["/v1/auth/token"])).toEqual(["post"]);
  });
});
