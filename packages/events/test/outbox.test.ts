import { afterAll, describe, expect, it } from "vitest";
import { aggregateOf, appendToOutbox, type DomainEvent } from "../src/index";
import { credentialRotated, orgUpdated, testDb, uniq } from "./helpers";

const db = testDb();
const prefix = uniq("outbox");

afterAll(async () => {
  await db.outboxEvent.deleteMany({ where: { subject: { startsWith: `${prefix}.` } } });
  await db.$disconnect();
});

describe("appendToOutbox", () => {
  it("writes nothing when the caller's transaction rolls back", async () => {
    const event = orgUpdated();
    let id = "";
    await expect(
      db.$transaction(async (tx) => {
        id = await appendToOutbox(tx, event, { subjectPrefix: prefix });
        throw new Error("the change failed");
      }),
    ).rejects.toThrow("the change failed");
    expect(id).toMatch(/^evt_/);
    expect(await db.outboxEvent.findUnique({ where: { id } })).toBeNull();
    expect(await db.outboxEvent.count({ where: { aggregateId: aggregateOf(event) } })).toBe(0);
  });

  it("leaves one pending row when the caller's transaction commits", async () => {
    const event = credentialRotated();
    const id = await db.$transaction((tx) => appendToOutbox(tx, event, { subjectPrefix: prefix }));
    const rows = await db.outboxEvent.findMany({ where: { aggregateId: aggregateOf(event) } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id,
      subject: `${prefix}.organization.${aggregateOf(event)}.credential_rotated`,
      type: "organization.credential_rotated",
      aggregateId: aggregateOf(event),
      payload: event.data,
      attempts: 0,
      lastError: null,
      publishedAt: null,
    });
  });

  it("refuses an invalid event before writing anything", async () => {
    const event = orgUpdated();
    const bad = { ...event, data: { ...event.data, version: 0 } } as DomainEvent;
    await expect(db.$transaction((tx) => appendToOutbox(tx, bad, { subjectPrefix: prefix }))).rejects.toThrow(
      /invalid organization.updated event/,
    );
    expect(await db.outboxEvent.count({ where: { aggregateId: aggregateOf(event) } })).toBe(0);
  });
});
