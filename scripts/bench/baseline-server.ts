// The baselines: a bare Fastify server doing only the cryptography of each scenario, with the same
// libraries and key type as the services (fast-jwt, Ed25519, argon2id at dashboard-auth's parameters),
// and nothing else: no database, no rate limiter, no hooks, no logging. `run.ts` starts it as a child
// process, like the services, so both sides pay for one process each on the same cores.
//
// Environment: BENCH_PORT, BENCH_PRIVATE_KEY_PEM, BENCH_PUBLIC_KEY_PEM, BENCH_KID, BENCH_ISSUER,
// BENCH_AUDIENCE, BENCH_PASSWORD.
import { randomUUID } from "node:crypto";
import { ARGON2_OPTIONS, argon2, createSigner, createVerifier, Fastify } from "./deps";

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`${name} is required`);
  return value;
}

const port = Number(required("BENCH_PORT"));
const issuer = required("BENCH_ISSUER");
const audience = required("BENCH_AUDIENCE");
const kid = required("BENCH_KID");
const ttlSeconds = 3600;

// One signer and one verifier, built once, exactly as TokenService caches them per key.
const sign = createSigner({
  key: required("BENCH_PRIVATE_KEY_PEM"),
  algorithm: "EdDSA",
  kid,
  header: { alg: "EdDSA", typ: "at+jwt" },
}) as (payload: Record<string, unknown>) => string;
const verify = createVerifier({
  key: required("BENCH_PUBLIC_KEY_PEM"),
  algorithms: ["EdDSA"],
  allowedIss: issuer,
  requiredClaims: ["iss", "sub", "aud", "exp", "iat", "jti"],
  complete: true,
  cache: false,
}) as unknown as (token: string) => { payload: Record<string, unknown> };
const passwordHash = await argon2.hash(required("BENCH_PASSWORD"), ARGON2_OPTIONS);

const app = Fastify({ logger: false });

app.get("/health", async () => ({ status: "ok" }));

/** Signs a partner-shaped access token (the claims api-auth puts in one) and answers like the token endpoint. */
app.post<{ Body: { client_id?: string; sub?: string } }>("/sign", async (request) => {
  const iat = Math.floor(Date.now() / 1000);
  const scope = "read_bills read_packs";
  const token = sign({
    client_id: request.body?.client_id ?? "client",
    scope,
    iss: issuer,
    sub: request.body?.sub ?? "org_baseline",
    aud: audience,
    iat,
    exp: iat + ttlSeconds,
    jti: randomUUID(),
  });
  return {
    access_token: token,
    token_type: "Bearer",
    expires_in: ttlSeconds,
    scope,
    created_at: new Date(iat * 1000).toISOString(),
  };
});

/** Verifies one token (signature, issuer, expiry, required claims) and answers like introspection. */
app.post<{ Body: { token?: string } }>("/verify", async (request) => {
  try {
    const { payload } = verify(request.body?.token ?? "");
    if (payload.aud !== audience) return { active: false };
    return { active: true, token_type: "Bearer", ...payload };
  } catch {
    return { active: false };
  }
});

/** One argon2id verification of the password against a hash made with dashboard-auth's parameters. */
app.post<{ Body: { password?: string } }>("/argon2", async (request, reply) => {
  const ok = await argon2.verify(passwordHash, request.body?.password ?? "");
  if (!ok) return reply.status(401).send({ ok: false });
  return { ok: true };
});

process.once("SIGTERM", () => {
  void app.close().then(() => process.exit(0));
});
await app.listen({ host: "127.0.0.1", port });
