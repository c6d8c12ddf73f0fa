// Device binding (RFC 9449): a token bound to the key the person's app holds is taken only with a fresh
// proof signed by that key, so the organization's backend, which relays the token, cannot use it.

import {
  buildDeliveryWorld,
  type DeliveryWorld,
  type Device,
  decodeJwt,
  dpopProof,
  newDevice,
  newOrganization,
  tokenFor,
  withBearer,
} from "@ipaas/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("tokens bound to the person's device", () => {
  let world: DeliveryWorld;
  let issuer: string;
  beforeAll(async () => {
    world = await buildDeliveryWorld();
    issuer = new URL(world.app.tokens.issuer).origin;
  });
  afterAll(() => world.close());

  let counter = 0;
  const newEmail = () => {
    counter += 1;
    return `device.${Date.now()}.${counter}@example.test`;
  };

  async function organization(settings?: { requireDeviceBinding: boolean }) {
    const org = await newOrganization(world.app, { scopes: ["otp"] });
    if (settings) await world.app.db.tenant.update({ where: { id: org.id }, data: { otpSettings: settings } });
    const partnerToken = await tokenFor(world.app, org, { scope: "otp" });
    const partner = (url: string, body: object) => withBearer(world.app, partnerToken, "POST", url, body);
    return { org, partner };
  }

  /** A code sent to a new address, and the request it belongs to. */
  async function codeFor(org: Awaited<ReturnType<typeof organization>>, email = newEmail()) {
    const sent = await org.partner("/v1/otp/send", { channel: "email", destination: email });
    expect(sent.statusCode).toBe(202);
    return { requestId: (sent.json() as { requestId: string }).requestId, code: await world.nextCode(email) };
  }

  async function boundSignIn(device: Device) {
    const org = await organization();
    const verified = await org.partner("/v1/otp/verify", { ...(await codeFor(org)), deviceKey: device.publicJwk });
    expect(verified.statusCode).toBe(200);
    return { org, ...(verified.json() as { userId: string; token: string; tokenType: string }) };
  }

  /** A call to the profile API with `Authorization: <scheme> <token>` and, when given, a DPoP proof. */
  const call = (
    token: string,
    scheme: "DPoP" | "Bearer",
    proof?: string,
    method: "GET" | "POST" = "GET",
    url = "/v1/users/me",
  ) =>
    world.app.inject({
      method,
      url,
      headers: { authorization: `${scheme} ${token}`, ...(proof ? { dpop: proof } : {}) },
    });

  it("binds the token to the device's key by its RFC 7638 thumbprint, and says it is a DPoP token", async () => {
    for (const alg of ["ES256", "EdDSA", "RS256", "PS256"] as const) {
      const device = newDevice(alg);
      const user = await boundSignIn(device);
      expect(user.tokenType).toBe("DPoP");
      expect(decodeJwt(user.token).payload.cnf).toEqual({ jkt: device.thumbprint });
      const proof = dpopProof(device, { htm: "GET", htu: `${issuer}/v1/users/me`, accessToken: user.token });
      const res = await call(user.token, "DPoP", proof);
      expect(res.statusCode, alg).toBe(200);
      expect(res.json().userId).toBe(user.userId);
    }
  });

  it("refuses the bound token as a Bearer token, without a proof, or with a proof used before", async () => {
    const device = newDevice();
    const user = await boundSignIn(device);
    const asBearer = await call(user.token, "Bearer");
    expect(asBearer.statusCode).toBe(401);
    expect(asBearer.json().code).toBe("INVALID_TOKEN");
    expect(asBearer.headers["www-authenticate"]).toContain("DPoP algs=");
    const noProof = await call(user.token, "DPoP");
    expect(noProof.statusCode).toBe(401);
    expect(noProof.json().code).toBe("INVALID_DPOP_PROOF");
    expect(noProof.headers["www-authenticate"]).toContain('error="invalid_dpop_proof"');
    const proof = dpopProof(device, { htm: "GET", htu: `${issuer}/v1/users/me`, accessToken: user.token });
    expect((await call(user.token, "DPoP", proof)).statusCode).toBe(200);
    const replay = await call(user.token, "DPoP", proof);
    expect(replay.statusCode).toBe(401);
    expect(replay.json().detail).toContain("used before");
  });

  it("refuses every proof that is not this device's, for this request, now, with this token", async () => {
    const device = newDevice();
    const backend = newDevice();
    const user = await boundSignIn(device);
    const htu = `${issuer}/v1/users/me`;
    const good = { htm: "GET", htu, accessToken: user.token };
    const forged: Record<string, string> = {
      "the backend's own key": dpopProof(backend, good),
      "a signature by another key": dpopProof(device, good, { signer: backend }),
      "another method": dpopProof(device, { ...good, htm: "POST" }),
      "another URL": dpopProof(device, { ...good, htu: `${issuer}/v1/users/me/sign-out` }),
      "another host": dpopProof(device, { ...good, htu: "https://evil.example/v1/users/me" }),
      "two minutes old": dpopProof(device, { ...good, iat: Math.floor(Date.now() / 1000) - 120 }),
      "from the future": dpopProof(device, { ...good, iat: Math.floor(Date.now() / 1000) + 120 }),
      "no token hash": dpopProof(device, { htm: "GET", htu }),
      "another token's hash": dpopProof(device, { ...good, accessToken: `${user.token}x` }),
      "a plain JWT type": dpopProof(device, good, { header: { typ: "JWT" } }),
      "no algorithm": dpopProof(device, good, { header: { alg: "none" } }),
      "a symmetric algorithm": dpopProof(device, good, { header: { alg: "HS256" } }),
      "its private key in the header": dpopProof(device, good, {
        header: { jwk: { ...device.publicJwk, ...device.privateKey.export({ format: "jwk" }) } },
      }),
      "no key in the header": dpopProof(device, good, { header: { jwk: undefined } }),
      "not a JWT": "not.a-proof",
    };
    for (const [what, proof] of Object.entries(forged)) {
      const res = await call(user.token, "DPoP", proof);
      expect(res.statusCode, what).toBe(401);
      expect(res.json().code, what).toBe("INVALID_DPOP_PROOF");
    }
    // The person's own proof for the same request still works: none of the above used it up.
    expect((await call(user.token, "DPoP", dpopProof(device, good))).statusCode).toBe(200);
  });

  it("binds each call to its method and URL, writes included", async () => {
    const device = newDevice("EdDSA");
    const user = await boundSignIn(device);
    const signOut = `${issuer}/v1/users/me/sign-out`;
    const wrongUrl = dpopProof(device, { htm: "POST", htu: `${issuer}/v1/users/me`, accessToken: user.token });
    expect((await call(user.token, "DPoP", wrongUrl, "POST", "/v1/users/me/sign-out")).statusCode).toBe(401);
    const right = dpopProof(device, { htm: "POST", htu: `${signOut}?ignored=1`, accessToken: user.token });
    expect((await call(user.token, "DPoP", right, "POST", "/v1/users/me/sign-out")).statusCode).toBe(204);
    const after = dpopProof(device, { htm: "GET", htu: `${issuer}/v1/users/me`, accessToken: user.token });
    expect((await call(user.token, "DPoP", after)).statusCode).toBe(401);
    expect((await user.org.partner("/v1/otp/token-status", { token: user.token })).json()).toEqual({ active: false });
  });

  it("answers token-status for a bound token, and refuses an unbound token sent with DPoP", async () => {
    const user = await boundSignIn(newDevice());
    const status = await user.org.partner("/v1/otp/token-status", { token: user.token });
    expect(status.json()).toMatchObject({ active: true, userId: user.userId });

    const org = await organization();
    const unbound = await org.partner("/v1/otp/verify", await codeFor(org));
    const { token, tokenType } = unbound.json() as { token: string; tokenType: string };
    expect(tokenType).toBe("Bearer");
    expect(decodeJwt(token).payload.cnf).toBeUndefined();
    const device = newDevice();
    const proof = dpopProof(device, { htm: "GET", htu: `${issuer}/v1/users/me`, accessToken: token });
    expect((await call(token, "DPoP", proof)).statusCode).toBe(401);
    expect((await call(token, "Bearer")).statusCode).toBe(200);
  });

  it("demands the device's key where the organization requires binding, without spending a try", async () => {
    const org = await organization({ requireDeviceBinding: true });
    const challenge = await codeFor(org);
    const missing = await org.partner("/v1/otp/verify", challenge);
    expect(missing.statusCode).toBe(400);
    expect(missing.json().code).toBe("DEVICE_KEY_REQUIRED");
    const row = await world.app.db.otpChallenge.findUniqueOrThrow({ where: { id: challenge.requestId } });
    expect(row.attempts).toBe(0);
    const device = newDevice();
    const bound = await org.partner("/v1/otp/verify", { ...challenge, deviceKey: device.publicJwk });
    expect(bound.statusCode).toBe(200);
    expect(decodeJwt(bound.json().token).payload.cnf).toEqual({ jkt: device.thumbprint });
  });

  it("refuses a device key that is not a usable public key, without spending a try", async () => {
    const org = await organization();
    const challenge = await codeFor(org);
    const device = newDevice();
    const bad: Record<string, unknown> = {
      "a private key": { ...device.publicJwk, ...device.privateKey.export({ format: "jwk" }) },
      "a symmetric key": { kty: "oct", k: "c2VjcmV0" },
      "a P-384 key": { ...device.publicJwk, crv: "P-384" },
      "a point off the curve": { ...device.publicJwk, y: device.publicJwk.x },
      "a 1024-bit RSA key": newDevice("RS256", 1024).publicJwk,
      "missing members": { kty: "EC", crv: "P-256" },
    };
    for (const [what, deviceKey] of Object.entries(bad)) {
      const res = await org.partner("/v1/otp/verify", { ...challenge, deviceKey });
      expect(res.statusCode, what).toBe(400);
      expect(res.json().code, what).toBe("INVALID_DEVICE_KEY");
    }
    const row = await world.app.db.otpChallenge.findUniqueOrThrow({ where: { id: challenge.requestId } });
    expect(row.attempts).toBe(0);
  });
});

describe("expired rows", () => {
  let world: DeliveryWorld;
  beforeAll(async () => {
    world = await buildDeliveryWorld();
  });
  afterAll(() => world.close());

  it("are deleted, and rows still in force are kept", async () => {
    const db = world.app.db;
    const past = new Date(Date.now() - 3 * 86_400_000);
    const future = new Date(Date.now() + 60_000);
    await db.revokedToken.createMany({
      data: [
        { jti: "jti_old", subject: "s", expiresAt: past },
        { jti: "jti_live", subject: "s", expiresAt: future },
      ],
    });
    await db.usedProof.createMany({
      data: [
        { key: "old", expiresAt: past },
        { key: "live", expiresAt: future },
      ],
    });
    await db.sendCounter.createMany({
      data: [
        { key: "k", windowStart: past, count: 1 },
        { key: "k", windowStart: new Date(), count: 1 },
      ],
    });
    await world.app.deleteExpiredRows();
    expect((await db.revokedToken.findMany()).map((r) => r.jti)).toEqual(["jti_live"]);
    expect((await db.usedProof.findMany()).map((r) => r.key)).toEqual(["live"]);
    expect(await db.sendCounter.count()).toBe(1);
  });
});
