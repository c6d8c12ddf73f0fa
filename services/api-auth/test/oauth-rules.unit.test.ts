// The small OAuth rules the routes are built from, checked without HTTP.

import { basic } from "@ipaas/testing";
import { describe, expect, it } from "vitest";
import { presentedClient } from "../src/domain/client-credentials";
import { parseStrictForm } from "../src/domain/form";
import { grantSupported } from "../src/domain/grant-types";
import { OAuthError } from "../src/domain/oauth-errors";
import { grantScopes, parseRequestedScopes } from "../src/domain/scopes";
import { readTokenRequest } from "../src/domain/token-request";
import { toOAuthError } from "../src/routes/oauth/protocol";
import { authorizationServerMetadata } from "../src/routes/well-known";

function oauthErrorOf(fn: () => unknown): { error: string; status: number } {
  try {
    fn();
  } catch (error) {
    if (error instanceof OAuthError) return { error: error.error, status: error.status };
    throw error;
  }
  throw new Error("expected an OAuthError");
}

describe("client authentication parsing", () => {
  it("decodes form-encoded credentials inside Basic", () => {
    const secret = "a/b=c?d:e%f+g h é";
    expect(presentedClient(basic("my-key", secret), {})).toEqual({
      clientKey: "my-key",
      secret,
      method: "client_secret_basic",
    });
  });

  it("accepts the scheme name in any case", () => {
    const header = basic("k", "s").replace("Basic", "bAsIc");
    expect(presentedClient(header, {}).clientKey).toBe("k");
  });

  it("reads client_secret_post under client_id or the seed's client_key", () => {
    expect(presentedClient(undefined, { client_id: "k", client_secret: "s" }).method).toBe("client_secret_post");
    expect(presentedClient(undefined, { client_key: "k", client_secret: "s" }).clientKey).toBe("k");
  });

  it("allows Basic with the same client_id repeated in the body", () => {
    expect(presentedClient(basic("k", "s"), { client_id: "k" }).method).toBe("client_secret_basic");
  });

  it("treats empty parameters as absent (RFC 6749 §3.1)", () => {
    expect(presentedClient(basic("k", "s"), { client_secret: "", client_id: "" }).method).toBe("client_secret_basic");
  });

  it("refuses contradictions as invalid_request", () => {
    for (const [authorization, body] of [
      [basic("k", "s"), { client_secret: "s" }],
      [basic("k", "s"), { client_id: "other" }],
      [undefined, { client_id: "k", client_key: "k", client_secret: "s" }],
      [undefined, { client_secret: "s" }],
    ] as const) {
      expect(oauthErrorOf(() => presentedClient(authorization, body))).toEqual({
        error: "invalid_request",
        status: 400,
      });
    }
  });

  it("refuses missing, malformed and oversized credentials as invalid_client", () => {
    for (const [authorization, body] of [
      [undefined, {}],
      [undefined, { client_id: "k" }],
      ["Digest x", {}],
      [`Basic ${Buffer.from("k:").toString("base64")}`, {}],
      [`Basic ${Buffer.from("k:%E0%A4%A").toString("base64")}`, {}],
      [basic("k".repeat(300), "s"), {}],
      [basic("k", "s".repeat(600)), {}],
    ] as const) {
      expect(oauthErrorOf(() => presentedClient(authorization, body))).toEqual({
        error: "invalid_client",
        status: 401,
      });
    }
  });
});

describe("strict form parsing", () => {
  it("decodes a form body", () => {
    expect(parseStrictForm("grant_type=client_credentials&scope=a+b&x=%2F")).toEqual({
      grant_type: "client_credentials",
      scope: "a b",
      x: "/",
    });
  });

  it("refuses a repeated parameter", () => {
    expect(oauthErrorOf(() => parseStrictForm("scope=a&scope=b"))).toEqual({ error: "invalid_request", status: 400 });
  });

  it("keeps a __proto__ parameter as plain data", () => {
    const parsed = parseStrictForm("__proto__=x&a=1");
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.hasOwn(parsed, "__proto__")).toBe(true);
  });
});

describe("scopes", () => {
  it("parses space-separated strings and arrays, without repeats", () => {
    expect(parseRequestedScopes("a b  a")).toEqual(["a", "b"]);
    expect(parseRequestedScopes(["b", "a"])).toEqual(["b", "a"]);
    expect(parseRequestedScopes("   ")).toBeUndefined();
    expect(parseRequestedScopes([])).toBeUndefined();
    expect(parseRequestedScopes(undefined)).toBeUndefined();
  });

  it("refuses malformed scope tokens", () => {
    for (const value of ['a"b', "a\\b", ["a b"], "tab\there", ["é"]]) {
      expect(oauthErrorOf(() => parseRequestedScopes(value))).toEqual({ error: "invalid_scope", status: 400 });
    }
  });

  it("grants a subset as asked, everything when nothing is asked, and nothing beyond", () => {
    expect(grantScopes(["b"], ["a", "b"])).toEqual(["b"]);
    expect(grantScopes(undefined, ["a", "b"])).toEqual(["a", "b"]);
    expect(oauthErrorOf(() => grantScopes(["c"], ["a", "b"])).error).toBe("invalid_scope");
    expect(oauthErrorOf(() => grantScopes(undefined, [])).error).toBe("invalid_scope");
  });
});

describe("grants", () => {
  it("supports client credentials only, spelled exactly", () => {
    expect(grantSupported("client_credentials")).toBe(true);
    for (const other of [
      "password",
      "authorization_code",
      "urn:ietf:params:oauth:grant-type:jwt-bearer",
      "Client_Credentials",
    ]) {
      expect(grantSupported(other), other).toBe(false);
    }
  });

  it("requires grant_type in the form but not in the seed's JSON", () => {
    expect(readTokenRequest({}, "json").grantType).toBe("client_credentials");
    expect(oauthErrorOf(() => readTokenRequest({}, "form")).error).toBe("invalid_request");
    expect(oauthErrorOf(() => readTokenRequest({ grant_type: "" }, "form")).error).toBe("invalid_request");
  });
});

describe("OAuth error responses", () => {
  it("keep error_description within the characters RFC 6749 allows", () => {
    const error = new OAuthError("invalid_request", 'a "quoted" \\ description\nwith é');
    expect(error.body.error_description).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/);
  });

  it("turn anything unexpected into server_error without its message", () => {
    const error = toOAuthError(new Error("connection to 10.0.0.5 refused: password=hunter2"));
    expect(error.status).toBe(500);
    expect(error.body).toEqual({ error: "server_error", error_description: "the request could not be handled" });
  });
});

describe("authorization server metadata", () => {
  it("builds every URL from the issuer, whether or not it ends with a slash", () => {
    for (const issuer of ["https://auth.example.com", "https://auth.example.com/"]) {
      const metadata = authorizationServerMetadata(issuer);
      expect(metadata.issuer).toBe(issuer);
      expect(metadata.token_endpoint).toBe("https://auth.example.com/v1/auth/token");
      expect(metadata.jwks_uri).toBe("https://auth.example.com/.well-known/jwks.json");
    }
  });
});
