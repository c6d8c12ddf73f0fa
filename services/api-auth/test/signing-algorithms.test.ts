// An organization may have its tokens signed with RS256 or ES256 instead of EdDSA, for partners whose JWT
// libraries lack EdDSA: jsonwebtoken with jwks-rsa (the most used pair in Node) verifies an RS256 token from
// the published key set, and no token can choose its own algorithm for a key.

import { generateKeyPairSync, sign } from "node:crypto";
import {
  buildDeliveryWorld,
  type DeliveryWorld,
  decodeJwt,
  freePort,
  introspect,
  newOrganization,
  tokenFor,
  withBearer,
} from "@ipaas/testing";
import { createRemoteJWKSet, jwtVerify } from "jose";
import jwt from "jsonwebtoken";
import { JwksClient } from "jwks-rsa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("token signing algorithms", () => {
  let world: DeliveryWorld;
  let jwksUri: string;
  beforeAll(async () => {
    world = await buildDeliveryWorld();
    const port = await freePort();
    await world.app.listen({ host: "127.0.0.1", port });
    jwksUri = `http://127.0.0.1:${port}/.well-known/jwks.json`;
  });
  afterAll(() => world.close());

  async function organization(tokenSigningAlg: string) {
    const org = await newOrganization(world.app, { scopes: ["read_bills", "otp"] });
    await world.app.db.tenant.update({ where: { id: org.id }, data: { tokenSigningAlg } });
    return org;
  }

  it("publishes a key of each algorithm, each naming its alg", async () => {
    const { keys } = (await (await fetch(jwksUri)).json()) as { keys: Array<Record<string, string>> };
    expect(keys.map((k) => `${k.alg}:${k.kty}`).sort()).toEqual(["ES256:EC", "EdDSA:OKP", "RS256:RSA"]);
    for (const key of keys) expect(key.d).toBeUndefined();
  });

  it("signs an RS256 organization's partner tokens with RS256, which jsonwebtoken and jwks-rsa verify", async () => {
    const org = await organization("RS256");
    const token = await tokenFor(world.app, org, { scope: "read_bills" });
    expect(decodeJwt(token).header).toMatchObject({ alg: "RS256", typ: "at+jwt" });
    const keys = new JwksClient({ jwksUri });
    const getKey: jwt.GetPublicKeyOrSecret = (header, done) => {
      keys.getSigningKey(header.kid).then(
        (key) => done(null, key.getPublicKey()),
        (error: Error) => done(error),
      );
    };
    const claims = await new Promise<jwt.JwtPayload>((resolve, reject) =>
      jwt.verify(
        token,
        getKey,
        { algorithms: ["RS256"], audience: "ipaas-partner-api", issuer: world.app.tokens.issuer },
        (error, payload) => (error ? reject(error) : resolve(payload as jwt.JwtPayload)),
      ),
    );
    expect(claims).toMatchObject({ sub: org.id, client_id: org.clientKey, scope: "read_bills" });
    expect((await introspect(world.app, org, token)).json()).toMatchObject({ active: true, sub: org.id });
  });

  it("signs an ES256 organization's partner and end-user tokens with ES256", async () => {
    const org = await organization("ES256");
    const partner = await tokenFor(world.app, org, { scope: "otp" });
    const jwks = createRemoteJWKSet(new URL(jwksUri));
    const { protectedHeader } = await jwtVerify(partner, jwks, {
      algorithms: ["ES256"],
      audience: "ipaas-partner-api",
    });
    expect(protectedHeader.alg).toBe("ES256");

    const email = `alg.${Date.now()}@example.test`;
    const sent = await withBearer(world.app, partner, "POST", "/v1/otp/send", { channel: "email", destination: email });
    const { requestId } = sent.json() as { requestId: string };
    const verified = await withBearer(world.app, partner, "POST", "/v1/otp/verify", {
      requestId,
      code: await world.nextCode(email),
    });
    const { token } = verified.json() as { token: string };
    const user = await jwtVerify(token, jwks, { algorithms: ["ES256"], audience: "ipaas-user-api" });
    expect(user.payload.org).toBe(org.id);
    expect((await withBearer(world.app, token, "GET", "/v1/users/me")).statusCode).toBe(200);
  });

  it("refuses a token whose header names another algorithm than its key's", async () => {
    const org = await organization("EdDSA");
    const genuine = await tokenFor(world.app, org, { scope: "read_bills" });
    const { header, payload } = decodeJwt(genuine);
    // Signed with an RSA key of the forger's own, under the EdDSA key's id: the key decides the algorithm.
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const input = `${b64({ ...header, alg: "RS256" })}.${b64(payload)}`;
    const forged = `${input}.${sign("sha256", Buffer.from(input), privateKey).toString("base64url")}`;
    expect((await introspect(world.app, org, forged)).json()).toEqual({ active: false });
    const res = await withBearer(world.app, forged, "POST", "/v1/otp/token-status", { token: "x" });
    expect(res.statusCode).toBe(401);
  });
});
