// Forged and misused tokens, for each of the four kinds, on every route of both services that takes a
// bearer token (from their OpenAPI documents), and in the bodies of introspection and token-status: `alg`
// none and its case variants, stripped and altered signatures, HS256 keyed with the public key, keys the
// token names itself (`jwk`, `jku`, `x5u`, `x5c`), `kid` traversal and SQL, ECDSA r = s = 0, and, signed
// with the service's real key, a wrong `iss`, `aud` or `typ`, an expired token, a future `nbf` or `iat`, a
// lifetime longer than the service gives, and each kind where another is expected. Nothing is accepted.
import { createHmac, generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import { basic, FORM, form, newOrganization, recordResult, tokenFor, withBearer } from "@ipaas/testing";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AttackWorld, buildAttackWorld, TOKEN_KINDS, type TokenKind } from "./attack-world";

const b64 = (value: unknown) =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

function parts(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header = "", payload = ""] = token.split(".");
  return {
    header: JSON.parse(Buffer.from(header, "base64url").toString()) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>,
  };
}

/** A compact JWS over `header` and `payload` with the signature `signer` gives for the signing input. */
function jws(header: object, payload: object, signer: (input: Buffer) => Buffer): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${signer(Buffer.from(input)).toString("base64url")}`;
}

const hs256 = (key: Buffer | string) => (input: Buffer) => createHmac("sha256", key).update(input).digest();
const withKey = (key: KeyObject, alg: string) => (input: Buffer) =>
  alg === "EdDSA"
    ? sign(null, input, key)
    : sign("sha256", input, alg === "ES256" ? { key, dsaEncoding: "ieee-p1363" } : key);

/** An attacker's own key pair, and its public JWK. */
const attacker = generateKeyPairSync("ed25519");
const attackerJwk = { ...attacker.publicKey.export({ format: "jwk" }), kid: "attacker", alg: "EdDSA" };

interface Variant {
  name: string;
  token: string;
}

/** Every forgery of one valid token of a kind, given the key its service signs with. */
function variants(
  token: string,
  key: { kid: string; alg: string; privateKey: KeyObject; publicKey: KeyObject; publicKeyPem: string },
) {
  const { header, payload } = parts(token);
  const [encodedHeader, encodedPayload, signature = ""] = token.split(".");
  const now = Math.floor(Date.now() / 1000);
  const real = (h: object, p: object) => jws(h, p, withKey(key.privateKey, key.alg));
  const mine = (h: object) => jws(h, payload, withKey(attacker.privateKey, "EdDSA"));
  const flipped = `${signature.slice(0, -2)}${signature.at(-2) === "A" ? "B" : "A"}${signature.at(-1)}`;
  const list: Variant[] = [
    ...["none", "None", "NONE", "nOnE"].map((alg) => ({
      name: `alg ${alg}`,
      token: `${b64({ ...header, alg })}.${encodedPayload}.`,
    })),
    { name: "alg none without kid", token: `${b64({ alg: "none", typ: header.typ })}.${encodedPayload}.` },
    { name: "signature stripped", token: `${encodedHeader}.${encodedPayload}.` },
    { name: "no signature part", token: `${encodedHeader}.${encodedPayload}` },
    { name: "signature altered", token: `${encodedHeader}.${encodedPayload}.${flipped}` },
    { name: "payload altered", token: `${encodedHeader}.${b64({ ...payload, sub: "usr_someone_else" })}.${signature}` },
    {
      name: "HS256 keyed with the public key (PEM)",
      token: jws({ ...header, alg: "HS256" }, payload, hs256(key.publicKeyPem)),
    },
    {
      name: "HS256 keyed with the public key (JWK)",
      token: jws({ ...header, alg: "HS256" }, payload, hs256(JSON.stringify(key.publicKey.export({ format: "jwk" })))),
    },
    {
      name: "HS256 keyed with the public key (DER)",
      token: jws({ ...header, alg: "HS256" }, payload, hs256(key.publicKey.export({ format: "der", type: "spki" }))),
    },
    { name: "embedded jwk, service kid", token: mine({ ...header, alg: "EdDSA", jwk: attackerJwk }) },
    { name: "embedded jwk, own kid", token: mine({ ...header, alg: "EdDSA", kid: "attacker", jwk: attackerJwk }) },
    { name: "jku", token: mine({ ...header, alg: "EdDSA", kid: "attacker", jku: "http://127.0.0.1:9/jwks.json" }) },
    { name: "jku, service kid", token: mine({ ...header, alg: "EdDSA", jku: "http://127.0.0.1:9/jwks.json" }) },
    { name: "x5u", token: mine({ ...header, alg: "EdDSA", kid: "attacker", x5u: "http://127.0.0.1:9/cert.pem" }) },
    {
      name: "x5c",
      token: mine({ ...header, alg: "EdDSA", kid: "attacker", x5c: [randomBytes(300).toString("base64")] }),
    },
    { name: "the attacker's own key", token: mine({ ...header, alg: "EdDSA" }) },
    ...["../../../../../../dev/null", "/dev/null", "' OR 1=1--", "x' UNION SELECT 'key'--", "%00", ""].flatMap(
      (kid) => [
        {
          name: `kid ${JSON.stringify(kid)}, HS256 with an empty key`,
          token: jws({ ...header, alg: "HS256", kid }, payload, hs256("")),
        },
        { name: `kid ${JSON.stringify(kid)}, the attacker's key`, token: mine({ ...header, alg: "EdDSA", kid }) },
      ],
    ),
    {
      name: "ES256 with r = s = 0",
      token: `${b64({ ...header, alg: "ES256" })}.${encodedPayload}.${b64(Buffer.alloc(64))}`,
    },
    {
      name: "another algorithm's header on the service's key",
      token: real({ ...header, alg: key.alg === "RS256" ? "ES256" : "RS256" }, payload),
    },
    // Signed with the service's own key: only the claims or the kind are wrong.
    { name: "wrong iss", token: real(header, { ...payload, iss: "https://evil.example" }) },
    { name: "no iss", token: real(header, { ...payload, iss: undefined }) },
    { name: "wrong aud", token: real(header, { ...payload, aud: "someone-else" }) },
    { name: "no aud", token: real(header, { ...payload, aud: undefined }) },
    { name: "aud list without ours", token: real(header, { ...payload, aud: ["a", "b"] }) },
    { name: "typ JWT", token: real({ ...header, typ: "JWT" }, payload) },
    { name: "no typ", token: real({ ...header, typ: undefined }, payload) },
    { name: "expired", token: real(header, { ...payload, iat: now - 7200, exp: now - 3600 }) },
    { name: "nbf in the future", token: real(header, { ...payload, nbf: now + 3600 }) },
    { name: "iat in the future", token: real(header, { ...payload, iat: now + 3600, exp: now + 3660 }) },
    { name: "a lifetime of ten days", token: real(header, { ...payload, exp: now + 10 * 86_400 }) },
    { name: "no exp", token: real(header, { ...payload, exp: undefined }) },
    { name: "no sub", token: real(header, { ...payload, sub: undefined }) },
  ];
  return list;
}

/** The service's key that signed `token` (its `kid`), as the service holds it. */
function keyOf(app: FastifyInstance, token: string) {
  const { kid, alg } = parts(token).header as { kid: string; alg: "EdDSA" | "ES256" | "RS256" };
  const key = app.signingKeys.signingKey(alg);
  if (key.kid !== kid) throw new Error(`the token was signed by ${kid}, not the current ${key.kid}`);
  return key;
}

/** The requests whose bearer token was refused, by request id, with the reason and the level of the line. */
function refusalsLogged(lines: string[]): Map<string, { level: number; reason: string }> {
  const logged = new Map<string, { level: number; reason: string }>();
  for (const line of lines) {
    if (!line.includes('"bearer token refused"')) continue;
    const entry = JSON.parse(line) as { reqId?: string; level: number; reason?: string };
    if (entry.reqId && entry.reason) logged.set(entry.reqId, { level: entry.level, reason: entry.reason });
  }
  return logged;
}

const call = (app: FastifyInstance, method: string, url: string, token: string) =>
  withBearer(app, token, method as "GET" | "POST" | "DELETE", url);

describe("forged and misused tokens", () => {
  let world: AttackWorld;
  const tried: Record<TokenKind, { variants: number; requests: number; accepted: number; logged: number }> = {
    "dashboard access": { variants: 0, requests: 0, accepted: 0, logged: 0 },
    "set-up": { variants: 0, requests: 0, accepted: 0, logged: 0 },
    "partner access": { variants: 0, requests: 0, accepted: 0, logged: 0 },
    "end-user": { variants: 0, requests: 0, accepted: 0, logged: 0 },
  };
  /** The kind each bearer route accepts, found by calling it with a valid token of each kind. */
  const homeKind = new Map<string, TokenKind>();

  beforeAll(async () => {
    world = await buildAttackWorld();
  }, 120_000);
  afterAll(async () => {
    await world?.close();
    await recordResult("attacks.jwt", tried);
  });

  it("finds every route that takes a token, each accepting exactly one kind and refusing the other three", async () => {
    // The routes that end their caller's session or tenant go last, each with fresh tokens.
    const endsSession = (r: { method: string; path: string }) =>
      /\/(logout|sign-out)$/.test(r.path) ||
      (r.method === "DELETE" && ["/v1/users/me", "/v1/organizations"].includes(r.path));
    const routes = [...world.bearerRoutes()].sort((a, b) => Number(endsSession(a)) - Number(endsSession(b)));
    expect(routes.length).toBeGreaterThan(40);
    for (const route of routes) {
      const key = `${route.method} ${route.path}`;
      if (endsSession(route)) await world.refresh();
      const accepting = await world.acceptedKinds(route);
      expect(accepting, key).toHaveLength(1);
      homeKind.set(key, accepting[0] as TokenKind);
    }
    // Each kind is some route's kind: none of the four is left untried below.
    expect(new Set(homeKind.values())).toEqual(new Set(TOKEN_KINDS));
    // The forgeries below start from live sessions, so a refusal is never just a session that ended.
    await world.refresh();
  }, 120_000);

  it.each(TOKEN_KINDS)(
    "refuses every forgery of a %s token on every route, with 401 and a problem",
    async (kind) => {
      const forged = variants(world.tokens[kind], keyOf(world.issuer(kind), world.tokens[kind]));
      tried[kind].variants = forged.length;
      const accepted: string[] = [];
      const refused = new Map<string, string>();
      for (const route of world.bearerRoutes()) {
        for (const variant of forged) {
          const res = await call(world.appOf(route), route.method, route.url, variant.token);
          tried[kind].requests += 1;
          if (res.statusCode !== 401)
            accepted.push(`${variant.name} at ${route.method} ${route.path}: ${res.statusCode}`);
          else {
            expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
            refused.set(
              (res.json() as { requestId: string }).requestId,
              `${variant.name} at ${route.method} ${route.path}`,
            );
          }
        }
      }
      tried[kind].accepted = accepted.length;
      expect(accepted).toEqual([]);
      // Each refusal left a record with its reason: a warning, or a note for a token that merely expired.
      const logged = refusalsLogged(world.leaks.logs.lines);
      const unrecorded = [...refused].filter(([id]) => !logged.has(id)).map(([, what]) => what);
      tried[kind].logged = refused.size - unrecorded.length;
      expect(unrecorded).toEqual([]);
      const quiet = [...refused].filter(([id]) => {
        const entry = logged.get(id);
        return entry?.level !== (entry?.reason === "expired" ? 30 : 40);
      });
      expect(quiet.map(([, what]) => what)).toEqual([]);
    },
    300_000,
  );

  it.each(["ES256", "RS256"] as const)(
    "refuses every forgery of a partner token an organization has signed with %s, and the token once revoked",
    async (alg) => {
      const api = world.api();
      const org = await newOrganization(api, { scopes: ["otp"] });
      await api.db.tenant.update({ where: { id: org.id }, data: { tokenSigningAlg: alg } });
      const token = await tokenFor(api, org, { scope: "otp" });
      expect(parts(token).header.alg).toBe(alg);
      // Against this key: r = s = 0 on the ES256 key itself, HS256 keyed with the RSA key's public half.
      const forged = variants(token, keyOf(api, token));
      const routes = world.bearerRoutes().filter((r) => homeKind.get(`${r.method} ${r.path}`) === "partner access");
      expect(routes.length).toBeGreaterThan(3);
      const accepted: string[] = [];
      for (const route of routes) {
        // The real token passes (a refusal below is the forgery's), then every forgery is refused.
        expect((await call(api, route.method, route.url, token)).statusCode, route.path).not.toBe(401);
        for (const variant of forged) {
          const res = await call(api, route.method, route.url, variant.token);
          if (res.statusCode !== 401)
            accepted.push(`${variant.name} at ${route.method} ${route.path}: ${res.statusCode}`);
        }
      }
      expect(accepted).toEqual([]);
      // Revoked (RFC 7009), the token is refused by every route that took it a moment ago.
      const revoked = await api.inject({
        method: "POST",
        url: "/v1/auth/revoke",
        headers: { ...FORM, authorization: basic(org.clientKey, org.clientSecret) },
        payload: form({ token }),
      });
      expect(revoked.statusCode).toBe(200);
      for (const route of routes) expect((await call(api, route.method, route.url, token)).statusCode).toBe(401);
    },
  );

  it("answers introspection of every forged or foreign token inactive, and token-status alike", async () => {
    const api = world.api();
    const partner = world.tokens["partner access"];
    // Another organization asks: to it, even the world's valid partner token is not active (RFC 7662 §2.2).
    const asker = await newOrganization(api, { scopes: ["otp"] });
    const introspect = (token: string) =>
      api.inject({
        method: "POST",
        url: "/v1/auth/introspect",
        headers: { ...FORM, authorization: basic(asker.clientKey, asker.clientSecret) },
        payload: form({ token }),
      });
    const askerToken = await tokenFor(api, asker, { scope: "otp" });
    // The controls: its own valid token is active; the test would prove nothing otherwise.
    expect((await introspect(askerToken)).json()).toMatchObject({ active: true });
    const foreign = TOKEN_KINDS.filter((k) => k !== "partner access").map((k) => world.tokens[k]);
    const forgeries = TOKEN_KINDS.flatMap((kind) =>
      variants(world.tokens[kind], keyOf(world.issuer(kind), world.tokens[kind])).map((v) => v.token),
    );
    for (const token of [partner, ...foreign, ...forgeries]) {
      const res = await introspect(token);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ active: false });
    }
    // token-status takes an end user's token in the body, from the partner: forged ones are not valid.
    for (const variant of variants(world.tokens["end-user"], keyOf(api, world.tokens["end-user"]))) {
      const res = await withBearer(api, askerToken, "POST", "/v1/otp/token-status", { token: variant.token });
      expect(res.statusCode, variant.name).toBeLessThan(500);
      expect(JSON.stringify(res.json()), variant.name).not.toMatch(/"(active|valid)":true/);
    }
  }, 120_000);

  it("writes no token, code, secret, password, e-mail or phone to the logs", async () => {
    const { lines, secrets, found } = await world.leaks.recorded("jwt");
    expect(lines).toBeGreaterThan(100);
    expect(secrets).toBeGreaterThan(10);
    expect(found).toEqual([]);
  });
});
