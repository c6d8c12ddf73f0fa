// Every RFC 6749 §5.2 error the token endpoint gives, each with the status and the body OAuth clients parse.

import { basic, buildApiAuth, FORM, form, newOrganization, requestToken } from "@ipaas/testing";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

function expectOAuthError(res: LightMyRequestResponse, status: number, error: string) {
  expect({ status: res.statusCode, error: res.json().error }).toEqual({ status, error });
  expect(res.headers["content-type"]).toMatch(/^application\/json/);
  expect(Object.keys(res.json()).sort()).toEqual(["error", "error_description"]);
  expect(res.json().error_description).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/);
  expect(res.headers["cache-control"]).toBe("no-store");
  expect(res.headers.pragma).toBe("no-cache");
}

describe("POST /v1/auth/token errors", () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildApiAuth();
  });
  afterAll(async () => {
    await app.close();
  });

  const post = (headers: Record<string, string>, payload?: string | object) =>
    app.inject({ method: "POST", url: "/v1/auth/token", headers, ...(payload === undefined ? {} : { payload }) });

  describe("invalid_request (400)", () => {
    it("when the form has no grant_type", async () => {
      const org = await newOrganization(app);
      const res = await post({ ...FORM, authorization: basic(org.clientKey, org.clientSecret) }, form({ scope: "a" }));
      expectOAuthError(res, 400, "invalid_request");
      expect(res.json().error_description).toMatch(/grant_type/);
    });

    it("when a parameter is sent twice", async () => {
      const org = await newOrganization(app);
      const res = await post(
        { ...FORM, authorization: basic(org.clientKey, org.clientSecret) },
        "grant_type=client_credentials&grant_type=client_credentials",
      );
      expectOAuthError(res, 400, "invalid_request");
      expect(res.json().error_description).toMatch(/grant_type .*more than once/);
    });

    it("when the client uses Basic and the body at once", async () => {
      const org = await newOrganization(app);
      const res = await post(
        { ...FORM, authorization: basic(org.clientKey, org.clientSecret) },
        form({ grant_type: "client_credentials", client_id: org.clientKey, client_secret: org.clientSecret }),
      );
      expectOAuthError(res, 400, "invalid_request");
      expect(res.json().error_description).toMatch(/exactly one/);
    });

    it("when the body names a different client than Basic", async () => {
      const org = await newOrganization(app);
      const other = await newOrganization(app);
      const res = await post(
        { ...FORM, authorization: basic(org.clientKey, org.clientSecret) },
        form({ grant_type: "client_credentials", client_id: other.clientKey }),
      );
      expectOAuthError(res, 400, "invalid_request");
    });

    it("when credentials are in the query string", async () => {
      const org = await newOrganization(app);
      const res = await app.inject({
        method: "POST",
        url: `/v1/auth/token?client_id=${org.clientKey}&client_secret=${org.clientSecret}`,
        headers: FORM,
        payload: form({ grant_type: "client_credentials" }),
      });
      expectOAuthError(res, 400, "invalid_request");
      expect(res.json().error_description).toMatch(/body, not the URL/);
    });

    it("when client_secret comes without client_id", async () => {
      const res = await post(FORM, form({ grant_type: "client_credentials", client_secret: "s" }));
      expectOAuthError(res, 400, "invalid_request");
    });

    it("when both scope and scopes are sent", async () => {
      const org = await newOrganization(app);
      const res = await post(
        {},
        { client_key: org.clientKey, client_secret: org.clientSecret, scope: "read_bills", scopes: "read_bills" },
      );
      expectOAuthError(res, 400, "invalid_request");
    });

    it("when the JSON body is malformed", async () => {
      const res = await post({ "content-type": "application/json" }, '{"client_key": "k", broken');
      expectOAuthError(res, 400, "invalid_request");
      expect(res.json().error_description).toMatch(/could not be parsed/);
    });

    it("when the JSON body is empty", async () => {
      const res = await post({ "content-type": "application/json" }, "");
      expectOAuthError(res, 400, "invalid_request");
    });

    it("when the JSON body is not an object, or a field has the wrong type", async () => {
      expectOAuthError(await post({ "content-type": "application/json" }, "[1,2]"), 400, "invalid_request");
      expectOAuthError(await post({}, { client_key: "k", client_secret: { nested: true } }), 400, "invalid_request");
    });

    it("when there is no body at all", async () => {
      expectOAuthError(await post({}), 400, "invalid_request");
    });

    it("when the content type is neither form nor JSON", async () => {
      const res = await post({ "content-type": "text/plain" }, "grant_type=client_credentials");
      expectOAuthError(res, 400, "invalid_request");
      const xml = await post({ "content-type": "application/xml" }, "<grant/>");
      expectOAuthError(xml, 400, "invalid_request");
    });

    it("when a JSON body tries to reach the prototype", async () => {
      const res = await post(
        { "content-type": "application/json" },
        '{"client_key":"k","client_secret":"s","__proto__":{"admin":true}}',
      );
      expectOAuthError(res, 400, "invalid_request");
    });

    it("when the method is not POST (405)", async () => {
      const res = await app.inject({ method: "GET", url: "/v1/auth/token" });
      expect(res.statusCode).toBe(405);
      expect(res.headers.allow).toBe("POST");
      expect(res.json().error).toBe("invalid_request");
    });
  });

  describe("invalid_client (401)", () => {
    it("when no client authentication is included", async () => {
      const res = await post(FORM, form({ grant_type: "client_credentials" }));
      expectOAuthError(res, 401, "invalid_client");
      expect(res.headers["www-authenticate"]).toMatch(/^Basic realm="/);
    });

    it("when the secret is wrong, with a Basic challenge", async () => {
      const org = await newOrganization(app);
      const res = await requestToken(app, { clientKey: org.clientKey, clientSecret: "not-the-secret" });
      expectOAuthError(res, 401, "invalid_client");
      expect(res.headers["www-authenticate"]).toMatch(/^Basic realm="[^"]+"/);
    });

    it("when client_id is sent without a secret", async () => {
      const org = await newOrganization(app);
      const res = await post(FORM, form({ grant_type: "client_credentials", client_id: org.clientKey }));
      expectOAuthError(res, 401, "invalid_client");
    });

    it("when the Authorization header is not valid Basic", async () => {
      for (const authorization of [
        "Bearer abc",
        "Basic",
        "Basic !!!",
        `Basic ${Buffer.from("no-colon").toString("base64")}`,
        `Basic ${Buffer.from("key:%zz").toString("base64")}`,
        `Basic ${Buffer.from(":secret").toString("base64")}`,
      ]) {
        const res = await post({ ...FORM, authorization }, form({ grant_type: "client_credentials" }));
        expectOAuthError(res, 401, "invalid_client");
      }
    });

    it("when the seed's JSON carries a wrong secret", async () => {
      const org = await newOrganization(app);
      const res = await post({}, { client_key: org.clientKey, client_secret: "wrong", scopes: "read_bills" });
      expectOAuthError(res, 401, "invalid_client");
    });
  });

  describe("unsupported_grant_type (400)", () => {
    // RFC 6749 §5.2: the server has no grant but client credentials, for any client.
    for (const grantType of ["password", "authorization_code", "refresh_token"]) {
      it(`when a partner asks for the ${grantType} grant`, async () => {
        const org = await newOrganization(app);
        const res = await requestToken(app, org, { grant_type: grantType, username: "u", password: "p", code: "c" });
        expectOAuthError(res, 400, "unsupported_grant_type");
      });
    }

    it("when the seed's JSON names another known grant", async () => {
      const org = await newOrganization(app);
      const res = await post(
        {},
        { grant_type: "password", client_key: org.clientKey, client_secret: org.clientSecret },
      );
      expectOAuthError(res, 400, "unsupported_grant_type");
    });

    it("when the grant is one nobody defines", async () => {
      const org = await newOrganization(app);
      const res = await requestToken(app, org, { grant_type: "magic" });
      expectOAuthError(res, 400, "unsupported_grant_type");
    });

    it("when the seed's JSON names an unknown grant", async () => {
      const org = await newOrganization(app);
      const res = await post({}, { grant_type: "magic", client_key: org.clientKey, client_secret: org.clientSecret });
      expectOAuthError(res, 400, "unsupported_grant_type");
    });
  });

  describe("invalid_scope (400)", () => {
    it("when a requested scope is not the organization's", async () => {
      const org = await newOrganization(app, { scopes: ["read_bills"] });
      const res = await requestToken(app, org, { scope: "read_bills pay_bills" });
      expectOAuthError(res, 400, "invalid_scope");
    });

    it("when the seed's scopes ask for more than the organization has", async () => {
      const org = await newOrganization(app, { scopes: ["read_bills"] });
      const res = await post({}, { client_key: org.clientKey, client_secret: org.clientSecret, scopes: ["admin"] });
      expectOAuthError(res, 400, "invalid_scope");
    });

    it("when a scope is malformed", async () => {
      const org = await newOrganization(app, { scopes: ["read_bills"] });
      const res = await post({}, { client_key: org.clientKey, client_secret: org.clientSecret, scopes: ['a"b'] });
      expectOAuthError(res, 400, "invalid_scope");
    });

    it("when the organization is allowed no scope at all", async () => {
      const org = await newOrganization(app, { scopes: [] });
      const res = await requestToken(app, org);
      expectOAuthError(res, 400, "invalid_scope");
    });
  });
});
