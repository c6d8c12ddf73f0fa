// Brute-force and flood protection: failed authentications per client key and address, per address and per
// client key across addresses, requests per address; the address is the one Fastify trusts, so a forged
// X-Forwarded-For changes nothing. The counters shed and slow wrong secrets; the right one always works.

import {
  basic,
  buildApiAuth,
  FORM,
  form,
  introspect,
  LogCapture,
  newOrganization,
  requestToken,
  revoke,
} from "@ipaas/testing";
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { FailureLimiter } from "../src/domain/failure-limiter";
import { AuthFailureGuard, type OAuthLimits, oauthLimits } from "../src/domain/limits";

describe("OAuth endpoint limits", () => {
  const apps: FastifyInstance[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  async function appWith(limits: Partial<OAuthLimits>, env: Record<string, string> = {}) {
    const app = await buildApiAuth({ limits, env });
    apps.push(app);
    return app;
  }

  /** A token request with client_secret_basic from `remoteAddress`, as Fastify's `request.ip` will see it. */
  const tokenFrom = (
    app: FastifyInstance,
    client: { clientKey: string; clientSecret: string },
    remoteAddress: string,
  ) =>
    app.inject({
      method: "POST",
      url: "/v1/auth/token",
      remoteAddress,
      headers: { ...FORM, authorization: basic(client.clientKey, client.clientSecret) },
      payload: form({ grant_type: "client_credentials" }),
    });

  it("answers 429 with Retry-After to further wrong secrets for one client key from one address", async () => {
    const app = await appWith({ failuresPerClient: 3, failureWindowSeconds: 120 });
    const org = await newOrganization(app);
    const bystander = await newOrganization(app);
    for (let i = 0; i < 3; i++) {
      expect((await requestToken(app, { clientKey: org.clientKey, clientSecret: `guess-${i}` })).statusCode).toBe(401);
    }
    const blocked = await requestToken(app, { clientKey: org.clientKey, clientSecret: "guess-3" });
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().error).toBe("too_many_requests");
    expect(Number(blocked.headers["retry-after"])).toBeGreaterThan(0);
    expect(Number(blocked.headers["retry-after"])).toBeLessThanOrEqual(120);
    expect(blocked.headers["cache-control"]).toBe("no-store");
    // Another client from the same address is not affected.
    expect((await requestToken(app, bystander)).statusCode).toBe(200);
  });

  // Regression: 10 wrong secrets for a client key used to refuse even the right secret with 429 for five
  // minutes, so anyone who knew a client_id could lock its organization out.
  it("never refuses the right secret, from the failing address or any other, after failures for its key", async () => {
    const app = await appWith({});
    const org = await newOrganization(app);
    const wrong = { clientKey: org.clientKey, clientSecret: "guess" };
    const statuses = [];
    for (let i = 0; i < 12; i++) statuses.push((await tokenFrom(app, wrong, "192.0.2.1")).statusCode);
    expect(statuses).toEqual([...Array(10).fill(401), 429, 429]);

    expect((await tokenFrom(app, org, "192.0.2.1")).statusCode).toBe(200);
    expect((await tokenFrom(app, org, "192.0.2.2")).statusCode).toBe(200);
    expect((await introspect(app, org, "t")).statusCode).toBe(200);
    expect((await revoke(app, org, "t")).statusCode).toBe(200);
    // The right secret did not reset the count: the failing address is still refused.
    expect((await tokenFrom(app, wrong, "192.0.2.1")).statusCode).toBe(429);
    // Another address has its own count for this key.
    expect((await tokenFrom(app, wrong, "192.0.2.2")).statusCode).toBe(401);
  });

  it("slows and refuses guesses from rotating addresses past the client's ceiling, and alerts once", async () => {
    const logs = new LogCapture();
    const guessingDelayMs = 500;
    const app = await buildApiAuth({
      limits: { failuresPerClientAcrossAddresses: 5, guessingDelayMs, failureWindowSeconds: 120 },
      env: { LOG_LEVEL: "info" },
      logs,
    });
    apps.push(app);
    const org = await newOrganization(app);
    const bystander = await newOrganization(app);
    const wrong = { clientKey: org.clientKey, clientSecret: "guess" };
    // Each address guesses once, far below its own limits.
    for (let i = 0; i < 5; i++) expect((await tokenFrom(app, wrong, `198.51.100.${i}`)).statusCode).toBe(401);

    for (let i = 5; i < 7; i++) {
      const started = performance.now();
      const slowed = await tokenFrom(app, wrong, `198.51.100.${i}`);
      expect(performance.now() - started).toBeGreaterThanOrEqual(guessingDelayMs - 10);
      expect(slowed.statusCode).toBe(429);
      expect(slowed.json().error).toBe("too_many_requests");
      expect(Number(slowed.headers["retry-after"])).toBeGreaterThan(0);
      expect(Number(slowed.headers["retry-after"])).toBeLessThanOrEqual(120);
    }
    const warnings = logs.lines.filter((line) => line.includes("client under guessing attack"));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0] ?? "{}")).toMatchObject({ level: 40, organizationId: org.id, endpoint: "token" });

    // The right secret still works at once, from a new address and from one that guessed.
    for (const address of ["198.51.100.200", "198.51.100.6"]) {
      const started = performance.now();
      expect((await tokenFrom(app, org, address)).statusCode).toBe(200);
      expect(performance.now() - started).toBeLessThan(guessingDelayMs);
    }
    // Another client is neither slowed nor refused.
    expect((await tokenFrom(app, { ...bystander, clientSecret: "typo" }, "198.51.100.7")).statusCode).toBe(401);
  });

  it("blocks an unknown client key the same way as a real one", async () => {
    const app = await appWith({ failuresPerClient: 2 });
    const unknown = { clientKey: crypto.randomUUID(), clientSecret: "guess" };
    await requestToken(app, unknown);
    await requestToken(app, unknown);
    expect((await requestToken(app, unknown)).statusCode).toBe(429);
  });

  it("counts failures at introspection and revocation too", async () => {
    const app = await appWith({ failuresPerClient: 2 });
    const org = await newOrganization(app);
    const wrong = { clientKey: org.clientKey, clientSecret: "wrong" };
    expect((await introspect(app, wrong, "t")).statusCode).toBe(401);
    expect((await revoke(app, wrong, "t")).statusCode).toBe(401);
    expect((await introspect(app, wrong, "t")).statusCode).toBe(429);
    expect((await requestToken(app, wrong)).statusCode).toBe(429);
    // The right secret is never refused by the counters.
    expect((await introspect(app, org, "t")).statusCode).toBe(200);
    expect((await requestToken(app, org)).statusCode).toBe(200);
  });

  it("refuses further guesses from an address that fails across many client keys", async () => {
    const app = await appWith({ failuresPerAddress: 4, failuresPerClient: 100 });
    for (let i = 0; i < 4; i++) {
      expect(
        (await tokenFrom(app, { clientKey: crypto.randomUUID(), clientSecret: "guess" }, "192.0.2.9")).statusCode,
      ).toBe(401);
    }
    const org = await newOrganization(app);
    const wrong = { clientKey: org.clientKey, clientSecret: "guess" };
    const refused = await tokenFrom(app, wrong, "192.0.2.9");
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
    // The address's count does not refuse a right secret from it, nor a guess from elsewhere.
    expect((await tokenFrom(app, org, "192.0.2.9")).statusCode).toBe(200);
    expect((await tokenFrom(app, wrong, "192.0.2.10")).statusCode).toBe(401);
  });

  it("does not let a forged X-Forwarded-For reset the failures counted for an address", async () => {
    const app = await appWith({ failuresPerAddress: 3, failuresPerClient: 100 });
    for (let i = 0; i < 3; i++) {
      const res = await app.inject({
        method: "POST",
        url: "/v1/auth/token",
        headers: { ...FORM, authorization: basic(crypto.randomUUID(), "guess"), "x-forwarded-for": `203.0.113.${i}` },
        payload: form({ grant_type: "client_credentials" }),
      });
      expect(res.statusCode).toBe(401);
    }
    const org = await newOrganization(app);
    const withForgedAddress = (secret: string) =>
      app.inject({
        method: "POST",
        url: "/v1/auth/token",
        headers: { ...FORM, authorization: basic(org.clientKey, secret), "x-forwarded-for": "198.51.100.7" },
        payload: form({ grant_type: "client_credentials" }),
      });
    expect((await withForgedAddress("guess")).statusCode).toBe(429);
    expect((await withForgedAddress(org.clientSecret)).statusCode).toBe(200);
  });

  describe("requests per address", () => {
    const send = (app: FastifyInstance, org: { clientKey: string; clientSecret: string }, forwardedFor?: string) =>
      app.inject({
        method: "POST",
        url: "/v1/auth/token",
        headers: {
          ...FORM,
          authorization: basic(org.clientKey, org.clientSecret),
          ...(forwardedFor ? { "x-forwarded-for": forwardedFor } : {}),
        },
        payload: form({ grant_type: "client_credentials" }),
      });

    it("answers 429 in RFC 6749 §5.2 form once an address exceeds AUTH_RATE_LIMIT_PER_MINUTE", async () => {
      const app = await appWith({}, { AUTH_RATE_LIMIT_PER_MINUTE: "3" });
      const org = await newOrganization(app);
      for (let i = 0; i < 3; i++) expect((await send(app, org)).statusCode).toBe(200);
      const limited = await send(app, org);
      expect(limited.statusCode).toBe(429);
      expect(limited.json()).toEqual({ error: "too_many_requests", error_description: expect.any(String) });
      expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    });

    it("ignores a spoofed X-Forwarded-For when no proxy is trusted", async () => {
      const app = await appWith({}, { AUTH_RATE_LIMIT_PER_MINUTE: "3", TRUST_PROXY: "false" });
      const org = await newOrganization(app);
      for (let i = 0; i < 3; i++) expect((await send(app, org, `203.0.113.${i}`)).statusCode).toBe(200);
      expect((await send(app, org, "198.51.100.99")).statusCode).toBe(429);
      expect((await send(app, org)).statusCode).toBe(429);
    });

    it("counts each forwarded client separately behind a trusted proxy", async () => {
      const app = await appWith({}, { AUTH_RATE_LIMIT_PER_MINUTE: "2", TRUST_PROXY: "127.0.0.1" });
      const org = await newOrganization(app);
      for (let i = 0; i < 2; i++) expect((await send(app, org, "203.0.113.10")).statusCode).toBe(200);
      expect((await send(app, org, "203.0.113.10")).statusCode).toBe(429);
      expect((await send(app, org, "203.0.113.11")).statusCode).toBe(200);
      // Only the hop the trusted proxy added counts: a client cannot prepend addresses to escape.
      expect((await send(app, org, "192.0.2.1, 203.0.113.10")).statusCode).toBe(429);
    });

    it("keeps each endpoint's budget separate", async () => {
      const app = await appWith({ tokenRequestsPerMinute: 1, introspectionRequestsPerMinute: 5 });
      const org = await newOrganization(app);
      expect((await send(app, org)).statusCode).toBe(200);
      expect((await send(app, org)).statusCode).toBe(429);
      expect((await introspect(app, org, "t")).statusCode).toBe(200);
    });
  });
});

describe("FailureLimiter", () => {
  function limiter(options: { maxFailures?: number; windowMs?: number; maxEntries?: number } = {}) {
    let now = 0;
    const instance = new FailureLimiter({
      maxFailures: options.maxFailures ?? 2,
      windowMs: options.windowMs ?? 10_000,
      maxEntries: options.maxEntries ?? 100,
      now: () => now,
    });
    return { instance, advance: (ms: number) => (now += ms) };
  }

  it("blocks a key after its failures, until its window ends", () => {
    const { instance, advance } = limiter();
    instance.recordFailure("k");
    expect(instance.retryAfterSeconds("k")).toBeNull();
    instance.recordFailure("k");
    advance(2_500);
    expect(instance.retryAfterSeconds("k")).toBe(8);
    advance(7_500);
    expect(instance.retryAfterSeconds("k")).toBeNull();
    instance.recordFailure("k");
    expect(instance.retryAfterSeconds("k")).toBeNull();
  });

  it("tracks at most maxEntries keys", () => {
    const { instance } = limiter({ maxEntries: 3 });
    for (let i = 0; i < 50; i++) instance.recordFailure(`k${i}`);
    expect(instance.size).toBe(3);
  });
});

describe("AuthFailureGuard", () => {
  it("tracks at most failureTrackingMaxEntries pairs, addresses and client keys", () => {
    const guard = new AuthFailureGuard(
      oauthLimits({ AUTH_RATE_LIMIT_PER_MINUTE: 10 }, { failureTrackingMaxEntries: 3 }),
    );
    for (let i = 0; i < 50; i++) guard.recordFailure(`client-${i}`, `192.0.2.${i}`);
    expect(guard.tracked).toEqual({ pairs: 3, addresses: 3, clients: 3 });
  });
});
