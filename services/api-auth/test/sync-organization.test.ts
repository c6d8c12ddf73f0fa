import { randomInt } from "node:crypto";
import { newId } from "@ipaas/domain";
// Organization changes made in the dashboard (scopes, suspension, deletion) reaching two api-auth
// instances through the outbox and JetStream; duplicates, out-of-order and poison messages.
import {
  as,
  buildSyncWorld,
  type Client,
  introspect,
  natsLinkOf,
  organizationAdmin,
  organizationEventApplied,
  platformOwner,
  publishEvent,
  requestToken,
  rotate,
  rotationApplied,
  type SyncWorld,
  tokenFor,
  untilEveryInstanceApplied,
  watchCredentialReads,
} from "@ipaas/testing";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let world: SyncWorld;
let owner: { token: string };
beforeAll(async () => {
  world = await buildSyncWorld();
  owner = await platformOwner(world.dashboard);
});
afterAll(async () => {
  await world?.close();
});

const apps = () => world.instances.map((i) => i.app);

async function newOrganization() {
  const admin = await organizationAdmin(world.dashboard);
  const client: Client = { clientKey: admin.org.clientKey, clientSecret: admin.org.clientSecret };
  return { token: admin.token, orgId: admin.org.orgId, client };
}

/** The organization's Tenant.version after the change the dashboard just made. */
async function organizationVersion(orgId: string): Promise<number> {
  return (await world.dashboard.db.tenant.findUniqueOrThrow({ where: { id: orgId } })).version;
}

async function everyInstance<T>(fn: (app: FastifyInstance) => Promise<T>): Promise<T[]> {
  return Promise.all(apps().map(fn));
}

describe("organization changes reaching every api-auth instance", () => {
  it("refuses a scope removed from the organization right after the event", async () => {
    const { orgId, client } = await newOrganization();
    const statuses = await everyInstance(
      async (app) => (await requestToken(app, client, { scope: "read_packs" })).statusCode,
    );
    expect(statuses).toEqual([200, 200]);

    const res = await as(world.dashboard, owner.token).put(`/v1/organizations?org_id=${orgId}`, {
      scopes: ["read_bills"],
    });
    expect(res.statusCode).toBe(200);
    const version = await organizationVersion(orgId);
    await untilEveryInstanceApplied(
      world,
      "the update",
      organizationEventApplied(orgId, "organization.updated", version),
    );

    for (const app of apps()) {
      const refused = await requestToken(app, client, { scope: "read_packs" });
      expect(refused.statusCode).toBe(400);
      expect(refused.json().error).toBe("invalid_scope");
      const granted = await requestToken(app, client);
      expect(granted.statusCode).toBe(200);
      expect(granted.json().scope).toBe("read_bills");
    }
  });

  it("applies one-time-code settings changed in the dashboard at the next send, on every instance", async () => {
    const { orgId, client, token } = await newOrganization();
    const scoped = await as(world.dashboard, owner.token).put(`/v1/organizations?org_id=${orgId}`, {
      scopes: ["otp"],
    });
    expect(scoped.statusCode).toBe(200);
    await untilEveryInstanceApplied(
      world,
      "the scope",
      organizationEventApplied(orgId, "organization.updated", await organizationVersion(orgId)),
    );
    const send = async (app: FastifyInstance) => {
      const partner = (await requestToken(app, client, { scope: "otp" })).json().access_token as string;
      const res = await app.inject({
        method: "POST",
        url: "/v1/otp/send",
        headers: { authorization: `Bearer ${partner}` },
        // A number of its own per send: the instances are asked at once, and one number waits between codes.
        payload: { channel: "sms", destination: `+9198${String(randomInt(1e7, 1e8))}` },
      });
      return res.statusCode;
    };
    // Each instance has the organization's settings in its client cache now.
    expect(await everyInstance(send)).toEqual([202, 202]);

    const changed = await as(world.dashboard, token).put("/v1/organizations", { otp: { channels: ["email"] } });
    expect(changed.statusCode).toBe(200);
    await untilEveryInstanceApplied(
      world,
      "the settings",
      organizationEventApplied(orgId, "organization.updated", await organizationVersion(orgId)),
    );
    expect(await everyInstance(send)).toEqual([403, 403]);
  });

  it("signs the organization's tokens with the algorithm its admin chooses, on every instance", async () => {
    const { orgId, client, token } = await newOrganization();
    const algOf = async (app: FastifyInstance) => {
      const res = await requestToken(app, client, { scope: "read_bills" });
      const header = JSON.parse(Buffer.from(res.json().access_token.split(".")[0], "base64url").toString("utf8"));
      return header.alg as string;
    };
    expect(await everyInstance(algOf)).toEqual(["EdDSA", "EdDSA"]);
    const refused = await as(world.dashboard, token).put("/v1/organizations", { tokenSigningAlg: "HS256" });
    expect(refused.statusCode).toBe(400);
    const chosen = await as(world.dashboard, token).put("/v1/organizations", { tokenSigningAlg: "RS256" });
    expect(chosen.statusCode).toBe(200);
    expect((await as(world.dashboard, token).get("/v1/organizations")).json().tokenSigningAlg).toBe("RS256");
    await untilEveryInstanceApplied(
      world,
      "the algorithm",
      organizationEventApplied(orgId, "organization.updated", await organizationVersion(orgId)),
    );
    expect(await everyInstance(algOf)).toEqual(["RS256", "RS256"]);
  });

  it("answers a pending organization invalid_client until it is approved, then grants tokens (review finding 1)", async () => {
    const admin = await organizationAdmin(world.dashboard);
    const orgId = admin.org.orgId;
    const client: Client = { clientKey: admin.org.clientKey, clientSecret: admin.org.clientSecret };
    // As if it had registered under a bank that approves its organizations.
    await world.dashboard.db.tenant.update({ where: { id: orgId }, data: { status: "PENDING" } });
    for (const app of apps()) {
      const refused = await requestToken(app, client);
      expect(refused.statusCode).toBe(401);
      expect(refused.json().error).toBe("invalid_client");
    }

    const approved = await as(world.dashboard, owner.token).post(`/v1/organizations/${orgId}/approve`);
    expect(approved.statusCode).toBe(200);
    const version = await organizationVersion(orgId);
    await untilEveryInstanceApplied(
      world,
      "the approval",
      organizationEventApplied(orgId, "organization.updated", version),
    );
    for (const app of apps()) expect((await requestToken(app, client)).statusCode).toBe(200);
  });

  it("refuses a suspended organization at the token endpoint and makes its tokens inactive", async () => {
    const { orgId, client } = await newOrganization();
    const tokens = await everyInstance((app) => tokenFor(app, client));

    const res = await as(world.dashboard, owner.token).put(`/v1/organizations?org_id=${orgId}`, {
      status: "Suspended",
    });
    expect(res.statusCode).toBe(200);
    const version = await organizationVersion(orgId);
    await untilEveryInstanceApplied(
      world,
      "the suspension",
      organizationEventApplied(orgId, "organization.updated", version),
    );

    for (const app of apps()) {
      const refused = await requestToken(app, client);
      expect(refused.statusCode).toBe(401);
      expect(refused.json().error).toBe("invalid_client");
      for (const token of tokens) expect((await introspect(app, client, token)).json()).toEqual({ active: false });
    }
  });

  it("refuses a deleted organization at the token endpoint and makes its tokens inactive", async () => {
    const { orgId, client } = await newOrganization();
    const tokens = await everyInstance((app) => tokenFor(app, client));

    const res = await as(world.dashboard, owner.token).delete(`/v1/organizations?org_id=${orgId}`);
    expect(res.statusCode).toBe(200);
    const version = await organizationVersion(orgId);
    await untilEveryInstanceApplied(
      world,
      "the deletion",
      organizationEventApplied(orgId, "organization.deleted", version),
    );

    for (const app of apps()) {
      const refused = await requestToken(app, client);
      expect(refused.statusCode).toBe(401);
      expect(refused.json().error).toBe("invalid_client");
      for (const token of tokens) expect((await introspect(app, client, token)).json()).toEqual({ active: false });
    }
  });

  it("changes nothing for a duplicate or an older event, and reloads for a newer one", async () => {
    const { token, orgId, client } = await newOrganization();
    await rotate(world, token);
    const current = await rotate(world, token);
    expect(current.credentialVersion).toBe(3);
    await untilEveryInstanceApplied(world, "the second rotation", rotationApplied(orgId, 3));
    // Each instance now caches the credential at version 3 and organization version 1.
    for (const app of apps()) {
      expect((await requestToken(app, current)).statusCode).toBe(200);
      expect(await app.clients.get(client.clientKey)).toMatchObject({ version: 3, organizationVersion: 1 });
    }

    const rotated = (credentialVersion: number) => ({
      type: "organization.credential_rotated" as const,
      data: {
        organizationId: orgId,
        clientKey: client.clientKey,
        credentialVersion,
        previousSecretValidUntil: null,
        tokensNotBefore: null,
        occurredAt: new Date().toISOString(),
      },
    });
    const updated = (version: number) => ({
      type: "organization.updated" as const,
      data: {
        organizationId: orgId,
        version,
        status: "ACTIVE" as const,
        scopes: ["read_bills", "read_packs"],
        name: "Biller Company",
        occurredAt: new Date().toISOString(),
      },
    });
    // Each is a new outbox row (a new message id), so JetStream does not drop them: only the version rule can.
    const stale = [
      await publishEvent(world, rotated(3)), // the same rotation again
      await publishEvent(world, rotated(2)), // an older one, arriving late
      await publishEvent(world, updated(1)), // an organization version the cache already holds
    ];
    for (const id of stale) {
      const applied = await untilEveryInstanceApplied(world, "a stale event", (e) => e.messageId === id);
      expect(applied.map((e) => e.outcome)).toEqual(["already_current", "already_current"]);
    }

    const reads = apps().map((app) => watchCredentialReads(app));
    try {
      for (const app of apps()) {
        expect((await requestToken(app, current)).statusCode).toBe(200);
        expect(await app.clients.get(client.clientKey)).toMatchObject({ version: 3 });
      }
      // The cached entries were kept: no instance went back to the database.
      for (const watch of reads) expect(watch.count()).toBe(0);

      const newer = await publishEvent(world, updated(2));
      const applied = await untilEveryInstanceApplied(world, "a newer event", (e) => e.messageId === newer);
      expect(applied.map((e) => e.outcome)).toEqual(["invalidated", "invalidated"]);
      for (const app of apps()) expect((await requestToken(app, current)).statusCode).toBe(200);
      for (const watch of reads) expect(watch.count()).toBe(1);
    } finally {
      for (const watch of reads) watch.stop();
    }
  });

  it("keeps applying events after a poison message", async () => {
    const { token, orgId, client } = await newOrganization();
    for (const app of apps()) expect((await requestToken(app, client)).statusCode).toBe(200);
    const js = natsLinkOf(world.dashboard).jetstream();
    // No event-type header, then a body that is not JSON: neither can ever be applied.
    await js.publish(`ipaas.organization.${orgId}.updated`, JSON.stringify({ organizationId: orgId }));
    await js.publish(`ipaas.organization.${newId("org")}.credential_rotated`, "{not json");

    const rotated = await rotate(world, token);
    await untilEveryInstanceApplied(world, "the rotation after the poison", rotationApplied(orgId, 2));
    for (const app of apps()) {
      expect((await requestToken(app, client)).statusCode).toBe(401);
      expect((await requestToken(app, rotated)).statusCode).toBe(200);
    }
  });
});
