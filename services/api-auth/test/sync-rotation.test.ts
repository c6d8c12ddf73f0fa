import { ORGANIZATION_STREAM } from "@ipaas/events";
// Client-secret rotation, end to end: dashboard-auth commits the rotation and its outbox row, the relay
// publishes it to JetStream, and each of two api-auth instances drops its cached credential, over a real
// nats-server and a real Postgres.

import { OutboxRelay, type OutboxRow } from "@ipaas/events";
import {
  buildSyncWorld,
  type Client,
  introspect,
  natsLinkOf,
  organizationAdmin,
  readiness,
  requestToken,
  rotate,
  rotationApplied,
  type SyncWorld,
  tokenFor,
  untilEveryInstanceApplied,
  waitFor,
} from "@ipaas/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let world: SyncWorld;
beforeAll(async () => {
  world = await buildSyncWorld();
});
afterAll(async () => {
  await world?.close();
});

const statuses = (client: Client) =>
  Promise.all(world.instances.map(async ({ app }) => (await requestToken(app, client)).statusCode));

/** Has every instance cache the organization's current credential, and checks it serves that version. */
async function primeCaches(client: Client, version: number) {
  expect(await statuses(client)).toEqual([200, 200]);
  for (const { app } of world.instances) expect((await app.clients.get(client.clientKey))?.version).toBe(version);
}

async function newAdmin() {
  const admin = await organizationAdmin(world.dashboard);
  const original: Client = { clientKey: admin.org.clientKey, clientSecret: admin.org.clientSecret };
  return { token: admin.token, orgId: admin.org.orgId, original };
}

describe("credential rotation reaching every api-auth instance", () => {
  it("refuses the old secret on both instances once the event is applied (no grace), and accepts the new one", async () => {
    const { token, orgId, original } = await newAdmin();
    await primeCaches(original, 1);

    const rotated = await rotate(world, token, { graceSeconds: 0 });
    expect(rotated.credentialVersion).toBe(2);
    await untilEveryInstanceApplied(world, "the rotation on both instances", rotationApplied(orgId, 2));

    expect(await statuses(original)).toEqual([401, 401]);
    expect(await statuses(rotated)).toEqual([200, 200]);
    for (const { app } of world.instances) expect((await app.clients.get(original.clientKey))?.version).toBe(2);
  });

  it("keeps the old secret working until the grace period ends, then refuses it", async () => {
    const { token, orgId, original } = await newAdmin();
    await primeCaches(original, 1);

    const rotated = await rotate(world, token, { graceSeconds: 2 });
    await untilEveryInstanceApplied(world, "the rotation on both instances", rotationApplied(orgId, 2));
    const credential = await world.dashboard.db.organizationCredential.findUniqueOrThrow({
      where: { tenantId: orgId },
    });
    const graceEnds = credential.previousSecretExpiresAt?.getTime() ?? 0;
    expect(graceEnds).toBeGreaterThan(Date.now());

    // Both instances hold the new record (the new secret works), and it still honours the old secret.
    expect(await statuses(rotated)).toEqual([200, 200]);
    expect(await statuses(original)).toEqual([200, 200]);

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, graceEnds - Date.now()) + 20));
    // No further event: the grace period's end is in the cached record itself.
    expect(await statuses(original)).toEqual([401, 401]);
    expect(await statuses(rotated)).toEqual([200, 200]);
  });

  it("makes every token issued before a rotation with revokeTokens inactive at introspection", async () => {
    const { token, orgId, original } = await newAdmin();
    const [a, b] = world.instances;
    if (!a || !b) throw new Error("two instances expected");
    const before = [await tokenFor(a.app, original), await tokenFor(b.app, original)];
    for (const t of before) {
      for (const { app } of world.instances) expect((await introspect(app, original, t)).json().active).toBe(true);
    }

    const rotated = await rotate(world, token, { graceSeconds: 60, revokeTokens: true });
    await untilEveryInstanceApplied(world, "the rotation on both instances", rotationApplied(orgId, 2));

    for (const { app } of world.instances) {
      for (const t of before) {
        expect((await introspect(app, rotated, t)).json()).toEqual({ active: false });
        // The old secret is still honoured during the grace period, but not its tokens.
        expect((await introspect(app, original, t)).json()).toEqual({ active: false });
      }
      const after = await tokenFor(app, rotated);
      expect((await introspect(app, rotated, after)).json().active).toBe(true);
    }
  });

  it("leaves one consistent version after two concurrent rotations: only the last secret works", async () => {
    const { token, orgId, original } = await newAdmin();
    await primeCaches(original, 1);

    const [x, y] = await Promise.all([rotate(world, token), rotate(world, token)]);
    const [first, last] = x.credentialVersion < y.credentialVersion ? [x, y] : [y, x];
    expect([first.credentialVersion, last.credentialVersion]).toEqual([2, 3]);
    await untilEveryInstanceApplied(world, "the last rotation on both instances", rotationApplied(orgId, 3));

    const credential = await world.dashboard.db.organizationCredential.findUniqueOrThrow({
      where: { tenantId: orgId },
    });
    expect(credential.version).toBe(3);
    expect(await statuses(last)).toEqual([200, 200]);
    expect(await statuses(first)).toEqual([401, 401]);
    expect(await statuses(original)).toEqual([401, 401]);
    for (const { app } of world.instances) {
      expect((await app.clients.get(original.clientKey))?.version).toBe(credential.version);
    }
  });

  it("publishes a rotation once although the relay died between JetStream's ack and marking the row", async () => {
    const { token, orgId, original } = await newAdmin();
    await primeCaches(original, 1);
    const relays = [world.dashboard, ...world.instances.map((i) => i.app)].map((app) => app.outboxRelay);
    if (relays.some((r) => r === undefined)) throw new Error("every service runs the outbox relay");
    // The services' own relays are paused so that the failing one below is the one that finds the row.
    await Promise.all(relays.map((r) => r?.stop()));
    try {
      const jsm = await natsLinkOf(world.dashboard).jetstreamManager();
      const storedBefore = (await jsm.streams.info(ORGANIZATION_STREAM.name)).state.messages;
      await rotate(world, token);
      const outbox = await world.dashboard.db.outboxEvent.findFirstOrThrow({
        where: { aggregateId: orgId, type: "organization.credential_rotated" },
      });

      const acks: Array<{ row: string; seq: number; duplicate: boolean }> = [];
      const crashing = new OutboxRelay({
        db: world.dashboard.db,
        link: natsLinkOf(world.dashboard),
        observer: {
          published: (row: OutboxRow, ack) => {
            acks.push({ row: row.id, seq: ack.seq, duplicate: ack.duplicate });
            if (acks.length === 1) throw new Error("relay killed between publish and mark");
          },
        },
      });
      await expect(crashing.drainOnce()).rejects.toThrow("relay killed");
      expect(
        (await world.dashboard.db.outboxEvent.findUniqueOrThrow({ where: { id: outbox.id } })).publishedAt,
      ).toBeNull();
      // A relay coming back publishes the row again, with the same Nats-Msg-Id.
      expect(await crashing.drainOnce()).toBe(1);
      expect(
        (await world.dashboard.db.outboxEvent.findUniqueOrThrow({ where: { id: outbox.id } })).publishedAt,
      ).not.toBeNull();

      expect(acks.map((a) => a.row)).toEqual([outbox.id, outbox.id]);
      expect(acks.map((a) => a.duplicate)).toEqual([false, true]);
      expect(acks[1]?.seq).toBe(acks[0]?.seq);
      expect((await jsm.streams.info(ORGANIZATION_STREAM.name)).state.messages).toBe(storedBefore + 1);

      await untilEveryInstanceApplied(world, "the rotation on both instances", rotationApplied(orgId, 2));
      // Give a second delivery every chance to show up before counting.
      await new Promise((resolve) => setTimeout(resolve, 500));
      for (const { seen } of world.instances) {
        const deliveries = seen.filter((e) => e.messageId === outbox.id);
        expect(deliveries).toHaveLength(1);
        expect(deliveries[0]).toMatchObject({ outcome: "invalidated", redelivered: false });
      }
      expect(await statuses(original)).toEqual([401, 401]);
    } finally {
      for (const r of relays) r?.start();
    }
  });

  // Last in the file: it stops this file's nats-server.
  it("commits a rotation while NATS is down, keeps serving the cache, and applies the event once NATS is back", async () => {
    const { token, orgId, original } = await newAdmin();
    await primeCaches(original, 1);
    const resyncsBefore = world.instances.map(({ app }) => app.organizationSync.counts.resyncs);

    await world.nats.stop();
    for (const app of [world.dashboard, ...world.instances.map((i) => i.app)]) {
      const down = await waitFor("readiness to report NATS down", async () => {
        const r = await readiness(app);
        return r.status === 503 ? r : null;
      });
      expect(down.body.checks.nats?.ok).toBe(false);
      expect(down.body.checks.postgres?.ok).toBe(true);
    }

    const rotated = await rotate(world, token);
    const pending = await world.dashboard.db.outboxEvent.findFirstOrThrow({
      where: { aggregateId: orgId, type: "organization.credential_rotated" },
    });
    expect(pending.publishedAt).toBeNull();
    // Both instances still act on their cached view: the old secret works, the new one is not known yet.
    expect(await statuses(original)).toEqual([200, 200]);
    expect(await statuses(rotated)).toEqual([401, 401]);

    await world.nats.start();
    const applied = await untilEveryInstanceApplied(
      world,
      "the rotation on both instances after NATS came back",
      rotationApplied(orgId, 2),
      20_000,
    );
    expect(applied.map((e) => e.messageId)).toEqual([pending.id, pending.id]);
    expect(await statuses(original)).toEqual([401, 401]);
    expect(await statuses(rotated)).toEqual([200, 200]);
    // The reconnect also cleared each cache, for events that might have gone by unseen.
    world.instances.forEach(({ app }, i) => {
      expect(app.organizationSync.counts.resyncs).toBeGreaterThan(resyncsBefore[i] ?? 0);
    });
    // Every service reports the link again. Not necessarily by the time the event was applied: api-auth
    // instances relay the outbox too, so one of them may have published it before dashboard-auth reconnected.
    for (const app of [world.dashboard, ...world.instances.map((i) => i.app)]) {
      await waitFor("readiness to report NATS back", async () => (await readiness(app)).body.checks.nats?.ok === true);
    }
  });
});
