// The client cache: a token request for a cached client costs no database round trip, the cached view is
// bounded in time (TTL, invalidation) and in size.

import { otpSettingsOf } from "@ipaas/domain";
import { buildApiAuth, newOrganization, requestToken, watchCredentialReads } from "@ipaas/testing";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientCache } from "../src/domain/client-cache";
import type { ClientRecord } from "../src/domain/clients";

describe("the client cache in the token endpoint", () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildApiAuth();
  });
  afterAll(async () => {
    await app.close();
  });

  async function suspendInDatabase(organizationId: string) {
    await app.db.tenant.update({
      where: { id: organizationId },
      data: { status: "SUSPENDED", version: { increment: 1 } },
    });
  }

  it("reads a client with one query on a miss and none on the next request", async () => {
    const org = await newOrganization(app);
    const reads = watchCredentialReads(app);
    try {
      expect((await requestToken(app, org)).statusCode).toBe(200);
      expect(reads.count()).toBe(1);
      expect((await requestToken(app, org)).statusCode).toBe(200);
      expect((await requestToken(app, org)).statusCode).toBe(200);
      expect(reads.count()).toBe(1);
    } finally {
      reads.stop();
    }
  });

  it("keeps using the cached view until the organization is invalidated, then refuses", async () => {
    const org = await newOrganization(app);
    expect((await requestToken(app, org)).statusCode).toBe(200);
    await suspendInDatabase(org.id);
    // The database says suspended; the cache (still within its TTL) has not been told.
    expect((await requestToken(app, org)).statusCode).toBe(200);
    app.clients.invalidateOrganization(org.id);
    expect((await requestToken(app, org)).statusCode).toBe(401);
  });

  it("forgets everything on clear()", async () => {
    const org = await newOrganization(app);
    await requestToken(app, org);
    await suspendInDatabase(org.id);
    app.clients.clear();
    expect((await requestToken(app, org)).statusCode).toBe(401);
  });

  it("only invalidates the organization it is told about", async () => {
    const changed = await newOrganization(app);
    const untouched = await newOrganization(app);
    await requestToken(app, changed);
    await requestToken(app, untouched);
    const reads = watchCredentialReads(app);
    try {
      app.clients.invalidateOrganization(changed.id);
      await requestToken(app, untouched);
      expect(reads.count()).toBe(0);
      await requestToken(app, changed);
      expect(reads.count()).toBe(1);
    } finally {
      reads.stop();
    }
  });

  it("does not remember an unknown client key, so a new credential works at once", async () => {
    const org = await newOrganization(app);
    const newKey = crypto.randomUUID();
    expect((await requestToken(app, { clientKey: newKey, clientSecret: org.clientSecret })).statusCode).toBe(401);
    await app.db.organizationCredential.update({ where: { tenantId: org.id }, data: { clientKey: newKey } });
    expect((await requestToken(app, { clientKey: newKey, clientSecret: org.clientSecret })).statusCode).toBe(200);
  });

  it("stops trusting an entry once its TTL has passed", async () => {
    const shortLived = await buildApiAuth({ env: { CLIENT_CACHE_TTL_SECONDS: "1" } });
    try {
      const org = await newOrganization(shortLived);
      expect((await requestToken(shortLived, org)).statusCode).toBe(200);
      await suspendInDatabase(org.id);
      expect((await requestToken(shortLived, org)).statusCode).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1_050));
      expect((await requestToken(shortLived, org)).statusCode).toBe(401);
    } finally {
      await shortLived.close();
    }
  });

  it("reads the database every time when the TTL is 0", async () => {
    const uncached = await buildApiAuth({ env: { CLIENT_CACHE_TTL_SECONDS: "0" } });
    try {
      const org = await newOrganization(uncached);
      expect((await requestToken(uncached, org)).statusCode).toBe(200);
      await suspendInDatabase(org.id);
      expect((await requestToken(uncached, org)).statusCode).toBe(401);
      expect(uncached.clients.size).toBe(0);
    } finally {
      await uncached.close();
    }
  });

  it("never holds more than CLIENT_CACHE_MAX_ENTRIES clients", async () => {
    const small = await buildApiAuth({ env: { CLIENT_CACHE_MAX_ENTRIES: "2" } });
    try {
      const orgs = [await newOrganization(small), await newOrganization(small), await newOrganization(small)];
      for (const org of [...orgs, ...orgs]) {
        expect((await requestToken(small, org)).statusCode).toBe(200);
        expect(small.clients.size).toBeLessThanOrEqual(2);
      }
      expect(small.clients.size).toBe(2);
    } finally {
      await small.close();
    }
  });
});

describe("ClientCache", () => {
  function record(clientKey: string, organizationId = `org_${clientKey}`): ClientRecord {
    return {
      organizationId,
      clientKey,
      secretHash: "00",
      previousSecretHash: null,
      previousSecretExpiresAt: null,
      version: 1,
      organizationVersion: 1,
      scopes: ["a"],
      status: "ACTIVE",
      deleted: false,
      tokensNotBefore: null,
      otp: otpSettingsOf({ otpChannels: ["sms", "email"], otpSettings: null }),
      signingAlg: "EdDSA",
    };
  }

  function setup(options: { ttlMs?: number; maxEntries?: number } = {}) {
    let now = 1_000_000;
    const loads: string[] = [];
    const loader = async (key: string) => {
      loads.push(key);
      return key.startsWith("unknown") ? null : record(key);
    };
    const cache = new ClientCache(loader, {
      ttlMs: options.ttlMs ?? 30_000,
      maxEntries: options.maxEntries ?? 100,
      now: () => now,
    });
    return { cache, loads, advance: (ms: number) => (now += ms) };
  }

  it("loads a client once however many requests ask for it at the same time", async () => {
    const { cache, loads } = setup();
    const results = await Promise.all([cache.get("k"), cache.get("k"), cache.get("k")]);
    expect(loads).toEqual(["k"]);
    expect(results.every((r) => r?.clientKey === "k")).toBe(true);
  });

  it("reloads an entry after its TTL", async () => {
    const { cache, loads, advance } = setup({ ttlMs: 1_000 });
    await cache.get("k");
    advance(999);
    await cache.get("k");
    expect(loads).toEqual(["k"]);
    advance(1);
    await cache.get("k");
    expect(loads).toEqual(["k", "k"]);
  });

  it("evicts the least recently used entry when full", async () => {
    const { cache, loads } = setup({ maxEntries: 2 });
    await cache.get("a");
    await cache.get("b");
    await cache.get("a"); // a is now the most recently used
    await cache.get("c"); // evicts b
    expect(cache.size).toBe(2);
    await cache.get("a");
    await cache.get("b");
    expect(loads).toEqual(["a", "b", "c", "b"]);
  });

  it("does not store what a load read before an invalidation", async () => {
    let release: (value: ClientRecord) => void = () => undefined;
    const loader = () =>
      new Promise<ClientRecord | null>((resolve) => {
        release = resolve;
      });
    const cache = new ClientCache(loader, { ttlMs: 30_000, maxEntries: 10 });
    const pending = cache.get("k");
    cache.invalidateOrganization("org_k");
    release(record("k"));
    await pending;
    expect(cache.size).toBe(0);
  });

  it("does not cache unknown keys", async () => {
    const { cache, loads } = setup();
    expect(await cache.get("unknown-1")).toBeNull();
    expect(await cache.get("unknown-1")).toBeNull();
    expect(loads).toEqual(["unknown-1", "unknown-1"]);
    expect(cache.size).toBe(0);
  });

  it("hands out records nobody can change", async () => {
    const { cache } = setup();
    const client = await cache.get("k");
    expect(Object.isFrozen(client)).toBe(true);
    expect(Object.isFrozen(client?.scopes)).toBe(true);
  });
});
