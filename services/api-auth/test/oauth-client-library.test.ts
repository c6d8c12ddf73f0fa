// Client libraries nobody here wrote (oauth4webapi, simple-oauth2) and jose's remote JWKS, against api-auth
// listening on a real port: if they interoperate, the service speaks standard OAuth 2.0.
import { buildApiAuth, freePort, newOrganization } from "@ipaas/testing";
import type { FastifyInstance } from "fastify";
import { createRemoteJWKSet, jwtVerify } from "jose";
import * as oauth from "oauth4webapi";
import { ClientCredentials } from "simple-oauth2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("api-auth with a standard OAuth client over HTTP", () => {
  let app: FastifyInstance;
  let issuer: string;
  let as: oauth.AuthorizationServer;
  const insecure = { [oauth.allowInsecureRequests]: true };

  beforeAll(async () => {
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    app = await buildApiAuth({ env: { API_AUTH_ISSUER: issuer } });
    await app.listen({ host: "127.0.0.1", port });
    const issuerUrl = new URL(issuer);
    as = await oauth.processDiscoveryResponse(
      issuerUrl,
      await oauth.discoveryRequest(issuerUrl, { ...insecure, algorithm: "oauth2" }),
    );
  });
  afterAll(async () => {
    await app.close();
  });

  it("discovers the authorization server metadata from the issuer", () => {
    expect(as.issuer).toBe(issuer);
    expect(as.token_endpoint).toBe(`${issuer}/v1/auth/token`);
    expect(as.introspection_endpoint).toBe(`${issuer}/v1/auth/introspect`);
    expect(as.revocation_endpoint).toBe(`${issuer}/v1/auth/revoke`);
    expect(as.jwks_uri).toBe(`${issuer}/.well-known/jwks.json`);
    expect(as.grant_types_supported).toEqual(["client_credentials"]);
    expect(as.response_types_supported).toEqual([]);
    for (const methods of [
      as.token_endpoint_auth_methods_supported,
      as.introspection_endpoint_auth_methods_supported,
      as.revocation_endpoint_auth_methods_supported,
    ]) {
      expect(methods).toEqual(["client_secret_basic", "client_secret_post"]);
    }
  });

  for (const [method, auth] of [
    ["client_secret_basic", oauth.ClientSecretBasic],
    ["client_secret_post", oauth.ClientSecretPost],
  ] as const) {
    it(`obtains, introspects and revokes a token with ${method}`, async () => {
      const org = await newOrganization(app, { scopes: ["read_bills", "read_packs"] });
      const client: oauth.Client = { client_id: org.clientKey };
      const clientAuth = auth(org.clientSecret);

      const response = await oauth.processClientCredentialsResponse(
        as,
        client,
        await oauth.clientCredentialsGrantRequest(as, client, clientAuth, { scope: "read_bills" }, insecure),
      );
      expect(response.token_type).toBe("bearer");
      expect(response.scope).toBe("read_bills");
      expect(response.expires_in).toBe(3600);
      expect(response.refresh_token).toBeUndefined();

      const active = await oauth.processIntrospectionResponse(
        as,
        client,
        await oauth.introspectionRequest(as, client, clientAuth, response.access_token, insecure),
      );
      expect(active).toMatchObject({
        active: true,
        client_id: org.clientKey,
        sub: org.id,
        scope: "read_bills",
        iss: issuer,
        aud: "ipaas-partner-api",
        token_type: "Bearer",
      });

      await oauth.processRevocationResponse(
        await oauth.revocationRequest(as, client, clientAuth, response.access_token, insecure),
      );
      const revoked = await oauth.processIntrospectionResponse(
        as,
        client,
        await oauth.introspectionRequest(as, client, clientAuth, response.access_token, insecure),
      );
      expect(revoked).toEqual({ active: false });
    });
  }

  it("issues a token that jose verifies from the published JWKS as an RFC 9068 access token", async () => {
    const org = await newOrganization(app, { scopes: ["read_bills", "pay_bills"] });
    const client: oauth.Client = { client_id: org.clientKey };
    const { access_token } = await oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(org.clientSecret), {}, insecure),
    );
    const jwks = createRemoteJWKSet(new URL(as.jwks_uri ?? ""));
    const { payload, protectedHeader } = await jwtVerify(access_token, jwks, {
      typ: "at+jwt",
      issuer,
      audience: "ipaas-partner-api",
      algorithms: ["EdDSA"],
      requiredClaims: ["iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope"],
    });
    expect(protectedHeader.typ).toBe("at+jwt");
    expect(protectedHeader.alg).toBe("EdDSA");
    expect(payload.sub).toBe(org.id);
    expect(payload.sub).toMatch(/^org_/);
    expect(payload.client_id).toBe(org.clientKey);
    expect(payload.scope).toBe("read_bills pay_bills");
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);
  });

  it("serves simple-oauth2: a token by client credentials, then its revocation (which parses the answer as JSON)", async () => {
    const org = await newOrganization(app, { scopes: ["read_bills"] });
    const client = new ClientCredentials({
      client: { id: org.clientKey, secret: org.clientSecret },
      auth: { tokenHost: issuer, tokenPath: "/v1/auth/token", revokePath: "/v1/auth/revoke" },
    });
    const token = await client.getToken({ scope: "read_bills" });
    expect(token.token).toMatchObject({ token_type: "Bearer", scope: "read_bills", expires_in: 3600 });
    await token.revoke("access_token");
    const introspected = await app.inject({
      method: "POST",
      url: "/v1/auth/introspect",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: new URLSearchParams({
        token: String(token.token.access_token),
        client_id: org.clientKey,
        client_secret: org.clientSecret,
      }).toString(),
    });
    expect(introspected.json()).toEqual({ active: false });
  });
});
