// Brute-force and flood protection: failed authentications per client key and per address, requests per
// address; the address is the one Fastify trusts, so a forged X-Forwarded-For changes nothing.
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { FailureLimiter } from "../src/domain/failure-limiter";
import type { OAuthLimits } from "../src/domain/limits";
import { basic, buildApiAuth, FORM, form, introspect, newOrganization, requestToken, revoke } from "./helpers";

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

  it("answers 429 with Retry-After after repeated failures for one client key, even to the right secret", async () => {
    const app = await appWith({ failuresPerClient: 3, failureWindowSeconds: 120 });
    const org = await newOrganization(app);
    const bystander = await newOrganization(app);
    for (let i = 0; i < 3; i++) {
      expect((await requestToken(app, { clientKey: org.clientKey, clientSecret: `guess-${i}` })).statusCode).toBe(401);
    }
    const blocked = await requestToken(app, org);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().error).toBe("too_many_requests");
    expect(Number(blocked.headers["retry-after"])).toBeGreaterThan(0);
    expect(Number(blocked.headers["retry-after"])).toBeLessThanOrEqual(120);
    expect(blocked.headers["cache-control"]).toBe("no-store");
    // Another client from the same address is not affected.
    expect((await requestToken(app, bystander)).statusCode).toBe(200);
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
    expect((await introspect(app, org, "t")).statusCode).toBe(429);
    expect((await requestToken(app, org)).statusCode).toBe(429);
  });

  it("blocks an address that fails across many client keys", async () => {
    const app = await appWith({ failuresPerAddress: 4, failuresPerClient: 100 });
    for (let i = 0; i < 4; i++) {
      await requestToken(app, { clientKey: crypto.randomUUID(), clientSecret: "guess" });
    }
    const org = await newOrganization(app);
    expect((await requestToken(app, org)).statusCode).toBe(429);
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
    const res = await app.inject({
      method: "POST",
      url: "/v1/auth/token",
      headers: { ...FORM, authorization: basic(org.clientKey, org.clientSecret), "x-forwarded-for": "198.51.100.7" },
      payload: form({ grant_type: "client_credentials" }),
    });
    expect(res.statusCode).toBe(429);
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
