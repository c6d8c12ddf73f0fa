import { createHmac, createPrivateKey, generateKeyPairSync, sign as signEd25519 } from "node:crypto";
import { createDb, type Db } from "@ipaas/db";
import Fastify, { type FastifyInstance } from "fastify";
import { createLocalJWKSet, exportJWK, jwtVerify, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { MasterKey } from "../src/crypto";
import { newId } from "../src/ids";
import { bearerAuthenticator } from "../src/keys/bearer-auth";
import { SigningKeyStore } from "../src/keys/signing-keys";
import { InvalidTokenError, MAX_CLOCK_SKEW_SECONDS, TokenService } from "../src/keys/tokens";

const ISSUER = "http://issuer.test";
const masterKey = new MasterKey(Buffer.alloc(32, 9));
const policy = { rotationDays: 30, publishLeadSeconds: 3600, maxTokenTtlSeconds: 900 };

describe("signing keys and tokens", () => {
  let db: Db;
  beforeAll(() => {
    db = createDb(inject("databaseUrl"));
  });
  afterAll(() => db.$disconnect());

  /** Each test gets its own "service", so keys never mix between tests. */
  function store(clock?: () => number) {
    return new SigningKeyStore(db, masterKey, `svc-${newId("key")}`, policy, clock);
  }

  it("publishes an Ed25519 key whose tokens verify with jose", async () => {
    const keys = store();
    await keys.init();
    const jwks = keys.jwks();
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
    expect(jwks.keys[0]).not.toHaveProperty("d");

    const tokens = new TokenService(keys, ISSUER);
    const { token, jti } = await tokens.sign(
      { scope: "read" },
      { typ: "at+jwt", audience: "api", subject: "org_1", ttlSeconds: 60 },
    );
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: ISSUER,
      audience: "api",
      typ: "at+jwt",
      algorithms: ["EdDSA"],
      requiredClaims: ["exp", "iat", "jti", "sub"],
    });
    expect(payload).toMatchObject({ sub: "org_1", scope: "read", jti });
    expect(protectedHeader.kid).toBe(jwks.keys[0]?.kid);
  });

  it("keeps a key line per algorithm asked for, each signing, publishing and rotating on its own", async () => {
    const service = `svc-${newId("key")}`;
    const keys = new SigningKeyStore(db, masterKey, service, { ...policy, algorithms: ["EdDSA", "RS256", "ES256"] });
    await keys.init();
    const jwks = keys.jwks();
    expect(jwks.keys.map((k) => `${k.alg}:${k.kty}`).sort()).toEqual(["ES256:EC", "EdDSA:OKP", "RS256:RSA"]);
    const tokens = new TokenService(keys, ISSUER);
    for (const alg of ["EdDSA", "RS256", "ES256"] as const) {
      const { token } = await tokens.sign(
        {},
        { typ: "at+jwt", audience: "api", subject: "org_1", ttlSeconds: 60, alg },
      );
      const { protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), { algorithms: [alg] });
      expect(protectedHeader.alg).toBe(alg);
      expect((await tokens.verify(token, { typ: ["at+jwt"], audience: "api" })).claims.sub).toBe("org_1");
    }
    const rsa = keys.signingKey("RS256").kid;
    const ed = keys.signingKey("EdDSA").kid;
    await keys.rotate(0, "RS256");
    expect(keys.signingKey("RS256").kid).not.toBe(rsa);
    expect(keys.signingKey("EdDSA").kid).toBe(ed);
    // A second instance starting now makes nothing new.
    const again = new SigningKeyStore(db, masterKey, service, { ...policy, algorithms: ["EdDSA", "RS256", "ES256"] });
    await again.init();
    expect(await db.signingKey.count({ where: { service } })).toBe(4);
  });

  it("keeps the private key encrypted at rest", async () => {
    const keys = store();
    await keys.init();
    const row = await db.signingKey.findFirstOrThrow({ where: { service: keys.service } });
    expect(row.privateKeyEncrypted).not.toMatch(/PRIVATE KEY/);
    expect(masterKey.decrypt(row.privateKeyEncrypted, `signing-key:${row.id}`)).toMatch(/BEGIN PRIVATE KEY/);
  });

  it("makes one key when two instances start together", async () => {
    const service = `svc-${newId("key")}`;
    const a = new SigningKeyStore(db, masterKey, service, policy);
    const b = new SigningKeyStore(db, masterKey, service, policy);
    await Promise.all([a.init(), b.init()]);
    expect(await db.signingKey.count({ where: { service } })).toBe(1);
    expect(a.signingKey().kid).toBe(b.signingKey().kid);
  });

  it("publishes a new key before it signs and keeps the old one until its tokens expire", async () => {
    let now = Date.now();
    const keys = store(() => now);
    await keys.init();
    const tokens = new TokenService(keys, ISSUER, () => now);
    const old = await tokens.sign({}, { typ: "at+jwt", audience: "api", subject: "s", ttlSeconds: 900 });
    const oldKid = keys.signingKey().kid;

    const newKid = await keys.rotate();
    // Published, not yet signing.
    expect(keys.jwks().keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, newKid]));
    expect(keys.signingKey().kid).toBe(oldKid);

    now += 3600_000; // the publish lead has passed: the new key signs
    expect(keys.signingKey().kid).toBe(newKid);
    const fresh = await tokens.sign({}, { typ: "at+jwt", audience: "api", subject: "s", ttlSeconds: 900 });
    expect(fresh.token).not.toBe(old.token);

    // The old key is still published while a token it signed could be alive...
    now += 899_000;
    expect(keys.jwks().keys.map((k) => k.kid)).toContain(oldKid);
    // ...and leaves the JWKS once every such token has expired.
    now += 2_000;
    expect(keys.jwks().keys.map((k) => k.kid)).toEqual([newKid]);
  });

  it("authenticates requests with tokens of every published key, looked up by kid", async () => {
    const keys = store();
    await keys.init();
    const tokens = new TokenService(keys, ISSUER);
    const app = await requestAuthenticatingApp(tokens);
    const before = await tokens.sign({}, { typ: "at+jwt", audience: "api", subject: "s", ttlSeconds: 60 });
    await keys.rotate(0);
    const after = await tokens.sign({}, { typ: "at+jwt", audience: "api", subject: "s", ttlSeconds: 60 });
    for (const t of [before, after]) {
      const res = await app.inject({ url: "/", headers: { authorization: `Bearer ${t.token}` } });
      expect(res.json()).toEqual({ reason: "accepted", jti: t.jti });
    }
    expect((await app.inject({ url: "/" })).json()).toEqual({ reason: "no bearer token" });
    expect((await app.inject({ url: "/", headers: { authorization: "Basic abc" } })).json()).toEqual({
      reason: "no bearer token",
    });
    await app.close();
  });

  it("keeps tokens signed before a rotation verifiable through it", async () => {
    const keys = store();
    await keys.init();
    const tokens = new TokenService(keys, ISSUER);
    const before = await tokens.sign({}, { typ: "at+jwt", audience: "api", subject: "s", ttlSeconds: 60 });
    await keys.rotate(0);
    const after = await tokens.sign({}, { typ: "at+jwt", audience: "api", subject: "s", ttlSeconds: 60 });
    for (const t of [before, after]) {
      await expect(tokens.verify(t.token, { typ: ["at+jwt"], audience: "api" })).resolves.toMatchObject({
        claims: { jti: t.jti },
      });
      await expect(jwtVerify(t.token, createLocalJWKSet(keys.jwks()), { issuer: ISSUER })).resolves.toBeTruthy();
    }
    const kids = [before, after].map(
      (t) => JSON.parse(Buffer.from(t.token.split(".")[0] ?? "", "base64url").toString()).kid,
    );
    expect(kids[0]).not.toBe(kids[1]);
  });

  // Tokens in a body go through TokenService.verify, a request's Bearer token through @fastify/jwt: both
  // must refuse the same tokens for the same reasons.
  describe.each(["in a body", "in the Authorization header"])("refuses forged and misdirected tokens %s", (path) => {
    let keys: SigningKeyStore;
    let tokens: TokenService;
    let kid: string;
    const accept = { typ: ["at+jwt"], audience: "api" } as const;
    let app: FastifyInstance;
    beforeAll(async () => {
      keys = store();
      await keys.init();
      tokens = new TokenService(keys, ISSUER);
      kid = keys.signingKey().kid;
      app = await requestAuthenticatingApp(tokens);
    });
    afterAll(() => app.close());

    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const claims = () => {
      const iat = Math.floor(Date.now() / 1000);
      return { iss: ISSUER, sub: "s", aud: "api", iat, exp: iat + 60, jti: "jti_x" };
    };
    // @fastify/jwt folds a bad signature, like a malformed token, into one "invalid" error.
    const badSignature = path === "in a body" ? "bad signature" : "invalid";
    const reason = async (token: string) => {
      if (path !== "in a body") {
        const res = await app.inject({ url: "/", headers: { authorization: `Bearer ${token}` } });
        return res.json().reason as string;
      }
      try {
        await tokens.verify(token, accept);
        return "accepted";
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidTokenError);
        return (error as InvalidTokenError).reason;
      }
    };

    it("alg none in any spelling, and an empty or altered signature", async () => {
      for (const alg of ["none", "None", "NONE"]) {
        expect(await reason(`${b64({ alg, kid, typ: "at+jwt" })}.${b64(claims())}.`)).toBe("algorithm not allowed");
      }
      const good = (await tokens.sign({}, { typ: "at+jwt", audience: "api", subject: "s", ttlSeconds: 60 })).token;
      const [h, p] = good.split(".");
      expect(await reason(`${h}.${p}.`)).not.toBe("accepted");
      expect(await reason(`${h}.${b64({ ...claims(), sub: "admin" })}.${good.split(".")[2]}`)).toBe(badSignature);
    });

    it("HS256 signed with the public key (algorithm confusion)", async () => {
      const publicJwk = keys.jwks().keys[0];
      const head = b64({ alg: "HS256", kid, typ: "at+jwt" });
      const body = b64(claims());
      const sig = createHmac("sha256", JSON.stringify(publicJwk)).update(`${head}.${body}`).digest("base64url");
      expect(await reason(`${head}.${body}.${sig}`)).toBe("algorithm not allowed");
    });

    it("an attacker's key embedded in the header or named by jku/x5u", async () => {
      const attacker = generateKeyPairSync("ed25519");
      const jwk = await exportJWK(attacker.publicKey);
      const forged = await new SignJWT(claims())
        .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid, jwk })
        .sign(attacker.privateKey);
      expect(await reason(forged)).toBe("header not allowed");
      const jku = await new SignJWT(claims())
        .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid, jku: "http://127.0.0.1:1/jwks" })
        .sign(attacker.privateKey);
      expect(await reason(jku)).toBe("header not allowed");
      const signedByStranger = await new SignJWT(claims())
        .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid })
        .sign(createPrivateKey(attacker.privateKey.export({ type: "pkcs8", format: "pem" })));
      expect(await reason(signedByStranger)).toBe(badSignature);
    });

    it("kid values that try path traversal or SQL", async () => {
      const attacker = generateKeyPairSync("ed25519");
      for (const evil of ["../../dev/null", "' OR 1=1--", ""]) {
        const t = await new SignJWT(claims())
          .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid: evil })
          .sign(attacker.privateKey);
        expect(await reason(t)).toBe("unknown key");
      }
    });

    it("wrong type, audience or issuer; expired; not yet valid", async () => {
      const sign = async (typ: string, audience: string) =>
        (await tokens.sign({}, { typ, audience, subject: "s", ttlSeconds: 60 })).token;
      expect(await reason(await sign("session+jwt", "api"))).toBe("wrong token type");
      expect(await reason(await sign("at+jwt", "dashboard"))).toBe("wrong audience");
      const otherIssuer = new TokenService(keys, "http://elsewhere.test");
      expect(
        await reason(
          (await otherIssuer.sign({}, { typ: "at+jwt", audience: "api", subject: "s", ttlSeconds: 60 })).token,
        ),
      ).toBe("wrong issuer");
      const past = new TokenService(keys, ISSUER, () => Date.now() - 120_000);
      expect(
        await reason((await past.sign({}, { typ: "at+jwt", audience: "api", subject: "s", ttlSeconds: 60 })).token),
      ).toBe("expired");
      const signing = keys.signingKey();
      const future = await new SignJWT({ ...claims(), nbf: Math.floor(Date.now() / 1000) + 600 })
        .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid: signing.kid })
        .sign(signing.privateKey);
      expect(await reason(future)).toBe("not yet valid");
      expect(await reason("not.a.jwt")).toBe(path === "in a body" ? "malformed" : "invalid");
    });

    // Regression: a token signed with the service's key was accepted with any iat and any lifetime, so one
    // minted far ahead (or for years) stayed valid as long as its signer liked.
    describe("iat in the future and lifetimes longer than the service gives", () => {
      /** Signed with the service's own signing key: only the claims are wrong. */
      const forge = (times: { iat: number; exp: number }) => {
        const signing = keys.signingKey();
        return new SignJWT({ ...claims(), ...times })
          .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid: signing.kid })
          .sign(signing.privateKey);
      };
      const now = () => Math.floor(Date.now() / 1000);

      it("refuses an iat beyond the clock skew, and accepts one within it", async () => {
        expect(await reason(await forge({ iat: now() + 600, exp: now() + 660 }))).toBe("issued in the future");
        const skew = MAX_CLOCK_SKEW_SECONDS;
        expect(await reason(await forge({ iat: now() + skew + 5, exp: now() + skew + 65 }))).toBe(
          "issued in the future",
        );
        expect(await reason(await forge({ iat: now() + skew - 5, exp: now() + skew + 55 }))).toBe("accepted");
      });

      it("refuses a lifetime longer than maxTokenTtlSeconds, and accepts exactly that long", async () => {
        const max = policy.maxTokenTtlSeconds;
        expect(await reason(await forge({ iat: now(), exp: now() + max + 60 }))).toBe("lifetime too long");
        expect(await reason(await forge({ iat: now() - 60, exp: now() + max }))).toBe("lifetime too long");
        expect(await reason(await forge({ iat: now(), exp: now() + max }))).toBe("accepted");
      });

      it("refuses an iat that is not a number", async () => {
        // Signed by hand: jose will not put a string in iat.
        const signing = keys.signingKey();
        const signed = `${b64({ alg: "EdDSA", typ: "at+jwt", kid: signing.kid })}.${b64({ ...claims(), iat: String(now()) })}`;
        const signature = signEd25519(null, Buffer.from(signed), signing.privateKey).toString("base64url");
        expect(await reason(`${signed}.${signature}`)).toBe("malformed");
      });

      it("never signs a token longer-lived than maxTokenTtlSeconds", async () => {
        const sign = (ttlSeconds: number) =>
          tokens.sign({}, { typ: "at+jwt", audience: "api", subject: "s", ttlSeconds });
        await expect(sign(policy.maxTokenTtlSeconds + 1)).rejects.toThrow(/maxTokenTtlSeconds/);
        await expect(sign(policy.maxTokenTtlSeconds)).resolves.toHaveProperty("token");
      });
    });
  });
});

/** An app with one route that authenticates its caller's `at+jwt` for audience `api` and says the outcome. */
async function requestAuthenticatingApp(tokens: TokenService): Promise<FastifyInstance> {
  const app = Fastify();
  app.decorate("tokens", tokens);
  const authenticate = await bearerAuthenticator(app, "test", { typ: ["at+jwt"], audience: "api" });
  app.get("/", async (request) => {
    try {
      const claims = await authenticate(request);
      return { reason: "accepted", jti: claims.jti };
    } catch (error) {
      if (error instanceof InvalidTokenError) return { reason: error.reason };
      throw error;
    }
  });
  await app.ready();
  return app;
}
