// The rules that keep an instance's client cache in step with the organization events, and the consumer's
// life in the app: one ephemeral consumer per instance, removed on close, and a full resync on reconnect.
// (sync-*.test.ts run the whole flow from dashboard-auth.)
import { otpSettingsOf } from "@ipaas/domain";
import type { OrganizationEvent } from "@ipaas/events";
import { ORGANIZATION_STREAM } from "@ipaas/events";
import { buildApiAuth, NatsServerProcess, natsLinkOf, newOrganization, requestToken, waitFor } from "@ipaas/testing";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientCache } from "../src/domain/client-cache";
import type { ClientRecord } from "../src/domain/clients";
import { announcedVersion, OrganizationSync, reflectsEvent, type SyncedEvent } from "../src/domain/organization-sync";

function record(overrides: Partial<ClientRecord> = {}): ClientRecord {
  return {
    organizationId: "org_a",
    clientKey: "key_a",
    secretHash: "00",
    previousSecretHash: null,
    previousSecretExpiresAt: null,
    version: 3,
    organizationVersion: 5,
    scopes: ["read_bills"],
    status: "ACTIVE",
    deleted: false,
    tokensNotBefore: null,
    otp: otpSettingsOf({ otpChannels: ["sms", "email"], otpSettings: null }),
    signingAlg: "EdDSA",
    ...overrides,
  };
}

const at = new Date().toISOString();
const rotated = (credentialVersion: number, organizationId = "org_a"): OrganizationEvent => ({
  type: "organization.credential_rotated",
  data: {
    organizationId,
    clientKey: "key_a",
    credentialVersion,
    previousSecretValidUntil: null,
    tokensNotBefore: null,
    occurredAt: at,
  },
});
const updated = (version: number, organizationId = "org_a"): OrganizationEvent => ({
  type: "organization.updated",
  data: { organizationId, version, status: "SUSPENDED", scopes: [], name: "A", occurredAt: at },
});
const deleted = (version: number, organizationId = "org_a"): OrganizationEvent => ({
  type: "organization.deleted",
  data: { organizationId, version, occurredAt: at },
});

describe("the version rule", () => {
  it("compares a rotation with the credential version and an update or deletion with the organization's", () => {
    expect(announcedVersion(rotated(4))).toBe(4);
    expect(announcedVersion(updated(6))).toBe(6);
    expect(announcedVersion(deleted(7))).toBe(7);

    const client = record({ version: 3, organizationVersion: 5 });
    expect(reflectsEvent(client, rotated(2))).toBe(true); // older
    expect(reflectsEvent(client, rotated(3))).toBe(true); // the same: a duplicate
    expect(reflectsEvent(client, rotated(4))).toBe(false);
    // Not confused with the other counter: 4 is newer than credential version 3, older than organization version 5.
    expect(reflectsEvent(client, updated(4))).toBe(true);
    expect(reflectsEvent(client, updated(5))).toBe(true);
    expect(reflectsEvent(client, updated(6))).toBe(false);
    expect(reflectsEvent(client, deleted(5))).toBe(true);
    expect(reflectsEvent(client, deleted(6))).toBe(false);
  });
});

describe("ClientCache.invalidateOrganizationUnlessCurrent", () => {
  function setup() {
    let now = 1_000_000;
    const loads: string[] = [];
    const stored = new Map<string, ClientRecord>([
      ["key_a", record()],
      ["key_b", record({ organizationId: "org_b", clientKey: "key_b" })],
    ]);
    const cache = new ClientCache(
      async (key) => {
        loads.push(key);
        return stored.get(key) ?? null;
      },
      { ttlMs: 30_000, maxEntries: 10, now: () => now },
    );
    return { cache, loads, stored, advance: (ms: number) => (now += ms) };
  }
  const current = (event: OrganizationEvent) => (client: ClientRecord) => reflectsEvent(client, event);

  it("keeps an entry that is as fresh as the event or fresher", async () => {
    const { cache, loads } = setup();
    await cache.get("key_a");
    expect(cache.invalidateOrganizationUnlessCurrent("org_a", current(rotated(3)))).toBe(false);
    expect(cache.invalidateOrganizationUnlessCurrent("org_a", current(rotated(1)))).toBe(false);
    await cache.get("key_a");
    expect(loads).toEqual(["key_a"]);
  });

  it("drops an entry older than the event, and only that organization's", async () => {
    const { cache, loads } = setup();
    await cache.get("key_a");
    await cache.get("key_b");
    expect(cache.invalidateOrganizationUnlessCurrent("org_a", current(rotated(4)))).toBe(true);
    await cache.get("key_a");
    await cache.get("key_b");
    expect(loads).toEqual(["key_a", "key_b", "key_a"]);
  });

  it("invalidates when nothing is cached, so a load in flight cannot store what it read before the change", async () => {
    const { stored } = setup();
    let release: (value: ClientRecord | null) => void = () => undefined;
    const cache = new ClientCache(
      () =>
        new Promise<ClientRecord | null>((resolve) => {
          release = resolve;
        }),
      { ttlMs: 30_000, maxEntries: 10 },
    );
    const pending = cache.get("key_a");
    expect(cache.invalidateOrganizationUnlessCurrent("org_a", current(rotated(2)))).toBe(true);
    release(stored.get("key_a") ?? null);
    await pending;
    expect(cache.size).toBe(0);
  });

  it("does not count an expired entry as proof of freshness", async () => {
    const { cache, advance } = setup();
    await cache.get("key_a");
    advance(30_000);
    expect(cache.invalidateOrganizationUnlessCurrent("org_a", current(rotated(3)))).toBe(true);
  });
});

describe("OrganizationSync", () => {
  function setup() {
    const calls: string[] = [];
    let fresh = false;
    const cache = {
      invalidateOrganizationUnlessCurrent: (organizationId: string, isCurrent: (c: ClientRecord) => boolean) => {
        calls.push(`invalidate ${organizationId}`);
        fresh = isCurrent(record());
        return !fresh;
      },
      clear: () => {
        calls.push("clear");
      },
    };
    const logged: object[] = [];
    const logger = { info: (obj: object) => logged.push(obj), warn: () => undefined, error: () => undefined };
    return { sync: new OrganizationSync(cache, logger), calls, logged };
  }

  it("invalidates the event's organization, reports the outcome and counts it", () => {
    const { sync, calls, logged } = setup();
    const seen: SyncedEvent[] = [];
    sync.observe((e) => seen.push(e));
    const newer = sync.apply(rotated(4), { messageId: "evt_1", redelivered: false });
    const stale = sync.apply(updated(5), { messageId: "evt_2", redelivered: true });
    expect(calls).toEqual(["invalidate org_a", "invalidate org_a"]);
    expect(newer).toEqual({
      type: "organization.credential_rotated",
      organizationId: "org_a",
      version: 4,
      messageId: "evt_1",
      redelivered: false,
      outcome: "invalidated",
    });
    expect(stale.outcome).toBe("already_current");
    expect(seen).toEqual([newer, stale]);
    expect(logged).toEqual([newer, stale]);
    expect(sync.counts).toEqual({ invalidated: 1, alreadyCurrent: 1, resyncs: 0 });
  });

  it("clears the whole cache on resync", () => {
    const { sync, calls } = setup();
    sync.resync("nats connected");
    expect(calls).toEqual(["clear"]);
    expect(sync.counts.resyncs).toBe(1);
  });

  it("does not let a failing observer make the event fail (it would be redelivered)", () => {
    const { sync } = setup();
    const stop = sync.observe(() => {
      throw new Error("observer bug");
    });
    expect(() => sync.apply(deleted(9), { messageId: "evt_3", redelivered: false })).not.toThrow();
    stop();
  });
});

describe("the organization-sync plugin", () => {
  let nats: NatsServerProcess;
  beforeAll(async () => {
    nats = await NatsServerProcess.create();
  });
  afterAll(async () => {
    await nats.dispose();
  });

  async function consumers(app: FastifyInstance) {
    const jsm = await natsLinkOf(app).jetstreamManager();
    return jsm.consumers.list(ORGANIZATION_STREAM.name).next();
  }

  it("gives each instance its own ephemeral consumer of new events, and removes it when the app closes", async () => {
    const a = await buildApiAuth({ env: { NATS_URL: nats.url } });
    const b = await buildApiAuth({ env: { NATS_URL: nats.url } });
    try {
      const list = await waitFor("a consumer per instance", async () => {
        const found = await consumers(a);
        return found.length === 2 ? found : null;
      });
      for (const info of list) {
        expect(info.config.durable_name).toBeUndefined();
        expect(info.config.deliver_policy).toBe("new");
        expect(info.config.filter_subject).toBe("ipaas.organization.>");
      }
      await b.close();
      expect(await consumers(a)).toHaveLength(1);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("clears the whole cache after NATS reconnects, and consumes again", async () => {
    const app = await buildApiAuth({ env: { NATS_URL: nats.url } });
    try {
      await waitFor("the consumer", async () => (await consumers(app)).length === 1);
      const org = await newOrganization(app);
      expect((await requestToken(app, org)).statusCode).toBe(200);
      expect(app.clients.size).toBe(1);
      const resyncs = app.organizationSync.counts.resyncs;

      await nats.stop();
      await nats.start();
      await waitFor("a resync after the reconnect", () => app.organizationSync.counts.resyncs > resyncs, 15_000);
      expect(app.clients.size).toBe(0);
      await waitFor("the consumer again", async () => (await consumers(app)).length === 1, 15_000);
    } finally {
      await app.close();
    }
  });
});
