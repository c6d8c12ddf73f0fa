// The world of the sync tests: a private nats-server, a private database, one dashboard-auth app (which
// writes the outbox and runs the relay) and two api-auth instances consuming the organization stream.
//
// Why a private database and not the run's: the outbox is one table, and every dashboard-auth app in the
// run (other test files build them too) runs a relay that claims every pending `ipaas.` row. On the
// shared database another file's relay could publish this file's rotation to another NATS server, where
// no api-auth instance of this file would ever see it, and this file's relay would publish theirs here.
// A private nats-server lets a test stop NATS without disturbing other files.
import { createTestDatabase, type TestDatabase } from "@ipaas/db/testing";
import { newId } from "@ipaas/domain";
import { appendToOutbox, type DomainEvent } from "@ipaas/events";
import type { SyncedEvent } from "api-auth";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { buildApiAuth } from "./api";
import { buildDashboard } from "./dashboard";
import { NatsServerProcess, waitFor } from "./infrastructure";

export interface ObservedEvent extends SyncedEvent {
  /** performance.now() when the instance applied it. */
  at: number;
}

export interface ApiInstance {
  name: string;
  app: FastifyInstance;
  /** Every event this instance has applied, in order. */
  seen: ObservedEvent[];
}

export interface SyncWorld {
  nats: NatsServerProcess;
  database: TestDatabase;
  dashboard: FastifyInstance;
  instances: ApiInstance[];
  close(): Promise<void>;
}

export interface Client {
  clientKey: string;
  clientSecret: string;
}

export async function buildSyncWorld(): Promise<SyncWorld> {
  const nats = await NatsServerProcess.create();
  const database = await createTestDatabase({ prefix: "ipaas_sync" });
  const env = { NATS_URL: nats.url, DATABASE_URL: database.url };
  const dashboard = await buildDashboard(env);
  const instances: ApiInstance[] = [];
  for (const name of ["api-auth-a", "api-auth-b"]) {
    // The tests ask with refused secrets on purpose, many times: the failure counters must not get in the way.
    const app = await buildApiAuth({ env, limits: { failuresPerClient: 1_000_000 } });
    const seen: ObservedEvent[] = [];
    app.organizationSync.observe((synced) => seen.push({ ...synced, at: performance.now() }));
    instances.push({ name, app, seen });
  }
  const world: SyncWorld = {
    nats,
    database,
    dashboard,
    instances,
    async close() {
      for (const { app } of instances) await app.close();
      await dashboard.close();
      await nats.dispose();
      await database.drop();
    },
  };
  await untilEveryInstanceConsumes(world);
  return world;
}

/** Writes an event to the outbox, as dashboard-auth does in its transactions, and has the relay publish it. */
export async function publishEvent(world: SyncWorld, event: DomainEvent): Promise<string> {
  const id = await world.dashboard.db.$transaction((tx) => appendToOutbox(tx, event));
  world.dashboard.outboxRelay?.kick();
  return id;
}

/**
 * Each instance's consumer starts at "new" once its link is up and the stream exists; until then an event
 * would pass it by. A throwaway event is published until every instance has seen one.
 */
async function untilEveryInstanceConsumes(world: SyncWorld, timeoutMs = 15_000): Promise<void> {
  const organizationId = newId("org");
  let version = 0;
  await waitFor(
    "every api-auth instance consuming the organization stream",
    async () => {
      if (world.instances.every((i) => i.seen.some((e) => e.organizationId === organizationId))) return true;
      version += 1;
      await publishEvent(world, {
        type: "organization.deleted",
        data: { organizationId, version, occurredAt: new Date().toISOString() },
      });
      return false;
    },
    timeoutMs,
    200,
  );
}

/** Waits until every instance has applied an event matching `match`; returns each instance's match. */
export function untilEveryInstanceApplied(
  world: SyncWorld,
  what: string,
  match: (e: ObservedEvent) => boolean,
  timeoutMs = 10_000,
): Promise<ObservedEvent[]> {
  return waitFor(
    what,
    () => {
      const found = world.instances.map((i) => i.seen.find(match));
      return found.every((e) => e !== undefined) ? (found as ObservedEvent[]) : null;
    },
    timeoutMs,
    5,
  );
}

export function rotationApplied(organizationId: string, credentialVersion: number) {
  return (e: ObservedEvent) =>
    e.type === "organization.credential_rotated" &&
    e.organizationId === organizationId &&
    e.version === credentialVersion;
}

export function organizationEventApplied(organizationId: string, type: SyncedEvent["type"], version: number) {
  return (e: ObservedEvent) => e.type === type && e.organizationId === organizationId && e.version === version;
}

export interface Rotated {
  clientKey: string;
  clientSecret: string;
  credentialVersion: number;
  /** performance.now() when the response arrived: the rotation had committed by then. */
  respondedAt: number;
}

/** PATCH /v1/organizations/credential on the dashboard, as the organization's Super Admin or the platform owner. */
export async function rotate(
  world: SyncWorld,
  token: string,
  body: { graceSeconds?: number; revokeTokens?: boolean } = {},
  orgId?: string,
): Promise<Rotated> {
  const res = await world.dashboard.inject({
    method: "PATCH",
    url: `/v1/organizations/credential${orgId ? `?org_id=${orgId}` : ""}`,
    headers: { authorization: `Bearer ${token}` },
    payload: body,
  });
  const respondedAt = performance.now();
  if (res.statusCode !== 200) throw new Error(`rotation failed: ${res.statusCode} ${res.body}`);
  const { clientKey, clientSecret, credentialVersion } = res.json() as Omit<Rotated, "respondedAt">;
  return { clientKey, clientSecret, credentialVersion, respondedAt };
}

export async function readiness(app: FastifyInstance) {
  const res: LightMyRequestResponse = await app.inject({ method: "GET", url: "/health/ready" });
  return {
    status: res.statusCode,
    body: res.json() as { status: string; checks: Record<string, { ok: boolean; detail: string }> },
  };
}
