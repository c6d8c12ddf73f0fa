import { randomBytes } from "node:crypto";
import { createDb, type Db, type Tx } from "@ipaas/db";
// Brings in the ProvidedContext declaration of `inject("databaseUrl")`.
import type {} from "@ipaas/db/testing";
import { newId } from "@ipaas/domain";
import { inject } from "vitest";
import { aggregateOf, type DomainEvent, type EventsLogger } from "../src/index";

export { NatsServerProcess, waitFor } from "@ipaas/testing";

export const SHARED_NATS = process.env.NATS_URL ?? "nats://127.0.0.1:4222";

/** A short random token, safe in stream names and subjects. */
export function uniq(label: string): string {
  return `${label}_${randomBytes(5).toString("hex")}`;
}

export function testDb(): Db {
  return createDb(inject("databaseUrl"), { poolSize: 4 });
}

export interface LogEntry {
  level: "info" | "warn" | "error";
  obj: object;
  msg: string | undefined;
}

/** A logger that remembers what it was told. */
export function memoryLogger(): EventsLogger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  return {
    entries,
    info: (obj, msg) => entries.push({ level: "info", obj, msg }),
    warn: (obj, msg) => entries.push({ level: "warn", obj, msg }),
    error: (obj, msg) => entries.push({ level: "error", obj, msg }),
  };
}

export function orgUpdated(organizationId = newId("org"), version = 2): DomainEvent {
  return {
    type: "organization.updated",
    data: {
      organizationId,
      version,
      status: "ACTIVE",
      scopes: ["payments:read"],
      name: "Acme Billers",
      occurredAt: new Date().toISOString(),
    },
  };
}

export function credentialRotated(organizationId = newId("org"), credentialVersion = 2): DomainEvent {
  return {
    type: "organization.credential_rotated",
    data: {
      organizationId,
      clientKey: `ck_${randomBytes(8).toString("hex")}`,
      credentialVersion,
      previousSecretValidUntil: new Date(Date.now() + 3_600_000).toISOString(),
      tokensNotBefore: null,
      occurredAt: new Date().toISOString(),
    },
  };
}

export function orgDeleted(organizationId = newId("org"), version = 3): DomainEvent {
  return { type: "organization.deleted", data: { organizationId, version, occurredAt: new Date().toISOString() } };
}

export function otpDeliveryRequested(organizationId = newId("org")): DomainEvent {
  return {
    type: "otp.delivery_requested",
    data: { organizationId, requestId: newId("otp"), occurredAt: new Date().toISOString() },
  };
}

/** A consumer's effect for the tests to count: one audit row naming the consumer and the event's aggregate. */
export async function writeEffect(tx: Tx, consumerName: string, event: DomainEvent): Promise<void> {
  await tx.auditEvent.create({
    data: {
      id: uniq("aud"),
      actorType: "system",
      action: consumerName,
      outcome: "success",
      targetId: aggregateOf(event),
    },
  });
}
