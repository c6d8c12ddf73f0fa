import { newId } from "@ipaas/domain";
import type { JetStreamManager } from "@nats-io/jetstream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  aggregateOf,
  appendToOutbox,
  applyOnce,
  type DomainEvent,
  EVENT_TYPE_HEADER,
  ensureStream,
  NatsLink,
  OutboxRelay,
  organizationSubjects,
  type ParkedRow,
  type RunningConsumer,
  startConsumer,
} from "../src/index";
import {
  credentialRotated,
  memoryLogger,
  orgDeleted,
  orgUpdated,
  SHARED_NATS,
  testDb,
  uniq,
  waitFor,
  writeEffect,
} from "./helpers";

const db = testDb();
const link = new NatsLink({ servers: SHARED_NATS, name: "events-relay-test" });
let jsm: JetStreamManager;
const streams: string[] = [];
const prefixes: string[] = [];
const running: Array<{ stop(): Promise<void> }> = [];

/** A stream and subject prefix of the test's own. */
async function freshStream(): Promise<{ stream: string; prefix: string }> {
  const prefix = uniq("relay");
  const stream = prefix.toUpperCase();
  prefixes.push(prefix);
  streams.push(stream);
  await ensureStream(jsm, { name: stream, subjects: [organizationSubjects(prefix)] });
  return { stream, prefix };
}

async function append(prefix: string, ...events: DomainEvent[]): Promise<string[]> {
  return db.$transaction(async (tx) => {
    const ids: string[] = [];
    for (const e of events) ids.push(await appendToOutbox(tx, e, { subjectPrefix: prefix }));
    return ids;
  });
}

/** Never to appear in a log line. */
const PAYLOAD_MARKER = "payload-sentinel-5f1c";

/**
 * A row NATS can never accept: its subject is outside `<prefix>.organization.>`, so no stream captures it.
 * Dated a minute back, so it is the oldest pending row and every other row sits behind it.
 */
async function appendUnroutable(prefix: string): Promise<string> {
  const id = newId("evt");
  await db.outboxEvent.create({
    data: {
      id,
      subject: `${prefix}.unrouted.${id}`,
      type: "organization.updated",
      aggregateId: newId("org"),
      payload: { marker: PAYLOAD_MARKER },
      createdAt: new Date(Date.now() - 60_000),
    },
  });
  return id;
}

beforeAll(async () => {
  link.start();
  await waitFor("NATS", () => link.isConnected());
  jsm = await link.jetstreamManager();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
});

afterAll(async () => {
  for (const s of streams) await jsm.streams.delete(s).catch(() => undefined);
  for (const p of prefixes) await db.outboxEvent.deleteMany({ where: { subject: { startsWith: `${p}.` } } });
  await link.close();
  await db.$disconnect();
});

describe("OutboxRelay", () => {
  it("publishes pending rows with Nats-Msg-Id = outbox id and marks them only after the ack", async () => {
    const { stream, prefix } = await freshStream();
    const events = [orgUpdated(), credentialRotated(), orgDeleted()];
    const ids = await append(prefix, ...events);

    const seenBeforeMark: Array<{ id: string; publishedAt: Date | null; streamSeq: number }> = [];
    const relay = new OutboxRelay({
      db,
      link,
      subjectPrefix: prefix,
      observer: {
        published: async (row, ack) => {
          // Acked and stored, but not yet marked (read outside the relay's transaction).
          const stored = await db.outboxEvent.findUniqueOrThrow({ where: { id: row.id } });
          seenBeforeMark.push({ id: row.id, publishedAt: stored.publishedAt, streamSeq: ack.seq });
        },
      },
    });
    expect(await relay.drainOnce()).toBe(3);
    expect(seenBeforeMark.map((s) => s.id)).toEqual(ids);
    expect(seenBeforeMark.every((s) => s.publishedAt === null && s.streamSeq > 0)).toBe(true);

    const rows = await db.outboxEvent.findMany({ where: { id: { in: ids } } });
    expect(rows.every((r) => r.publishedAt !== null && r.attempts === 0)).toBe(true);

    const info = await jsm.streams.info(stream);
    expect(info.state.messages).toBe(3);
    for (const [i, id] of ids.entries()) {
      const msg = await jsm.streams.getMessage(stream, { seq: i + 1 });
      const event = events[i];
      if (!msg || !event) throw new Error("missing message");
      expect(msg.header.get("Nats-Msg-Id")).toBe(id);
      expect(msg.header.get(EVENT_TYPE_HEADER)).toBe(event.type);
      expect(msg.subject).toBe(`${prefix}.organization.${aggregateOf(event)}.${event.type.split(".")[1]}`);
      expect(msg.json()).toEqual(event.data);
    }

    expect(await relay.drainOnce()).toBe(0);
    expect((await jsm.streams.info(stream)).state.messages).toBe(3);
  });

  it("re-publishes a row whose mark was lost; JetStream stores it once and applyOnce applies it once", async () => {
    const { stream, prefix } = await freshStream();
    const event = orgUpdated();
    const [id] = await append(prefix, event);
    if (!id) throw new Error("no id");

    const crashing = new OutboxRelay({
      db,
      link,
      subjectPrefix: prefix,
      observer: {
        published: () => {
          throw new Error("relay killed between publish and mark");
        },
      },
    });
    await expect(crashing.drainOnce()).rejects.toThrow("relay killed between publish and mark");
    expect((await db.outboxEvent.findUniqueOrThrow({ where: { id } })).publishedAt).toBeNull();
    expect((await jsm.streams.info(stream)).state.messages).toBe(1);

    // The "restarted" relay publishes the row again: JetStream reports a duplicate and keeps one copy.
    let duplicate: boolean | null = null;
    const restarted = new OutboxRelay({
      db,
      link,
      subjectPrefix: prefix,
      observer: {
        published: (_row, ack) => {
          duplicate = ack.duplicate;
        },
      },
    });
    expect(await restarted.drainOnce()).toBe(1);
    expect(duplicate).toBe(true);
    expect((await db.outboxEvent.findUniqueOrThrow({ where: { id } })).publishedAt).not.toBeNull();
    expect((await jsm.streams.info(stream)).state.messages).toBe(1);

    // A consumer applying through applyOnce: the first delivery applies, then fails before its ack; the
    // redelivery finds the message already applied and only acknowledges it.
    const consumerName = uniq("cache");
    const deliveries: Array<{ messageId: string; redelivered: boolean; applied: boolean }> = [];
    const consumer = startConsumer({
      link,
      stream,
      durableName: consumerName,
      nakDelayMs: () => 50,
      handler: async (e, ctx) => {
        const applied = await applyOnce(db, consumerName, ctx.messageId, async (tx) => {
          await writeEffect(tx, consumerName, e);
        });
        deliveries.push({ messageId: ctx.messageId, redelivered: ctx.redelivered, applied });
        if (deliveries.length === 1) throw new Error("crashed after applying, before the ack");
      },
    });
    running.push(consumer);
    await waitFor("the redelivery", () => deliveries.length >= 2);
    await consumer.stop();
    expect(deliveries).toEqual([
      { messageId: id, redelivered: false, applied: true },
      { messageId: id, redelivered: true, applied: false },
    ]);
    expect(await db.auditEvent.count({ where: { action: consumerName } })).toBe(1);
    expect(await db.processedEvent.count({ where: { consumer: consumerName } })).toBe(1);
  });

  it("applyOnce records nothing when the apply fails, so the retry applies", async () => {
    const consumerName = uniq("c");
    await expect(
      applyOnce(db, consumerName, "evt_1", async () => {
        throw new Error("apply failed");
      }),
    ).rejects.toThrow("apply failed");
    expect(await db.processedEvent.count({ where: { consumer: consumerName } })).toBe(0);
    expect(await applyOnce(db, consumerName, "evt_1", async () => {})).toBe(true);
    expect(await applyOnce(db, consumerName, "evt_1", async () => {})).toBe(false);
  });

  it("never publishes a row twice when two relays drain together", async () => {
    const { stream, prefix } = await freshStream();
    const events = Array.from({ length: 40 }, () => orgUpdated());
    await append(prefix, ...events);
    const published = new Map<string, number>();
    const count = (row: { id: string }) => {
      published.set(row.id, (published.get(row.id) ?? 0) + 1);
    };
    const a = new OutboxRelay({ db, link, subjectPrefix: prefix, batchSize: 5, observer: { published: count } });
    const b = new OutboxRelay({ db, link, subjectPrefix: prefix, batchSize: 5, observer: { published: count } });
    const [na, nb] = await Promise.all([a.drainOnce(), b.drainOnce()]);
    expect(na + nb).toBe(40);
    expect(published.size).toBe(40);
    expect([...published.values()].every((n) => n === 1)).toBe(true);
    expect((await jsm.streams.info(stream)).state.messages).toBe(40);
  });

  it("publishes in the background after kick(), and a consumer receives the events", async () => {
    const { stream, prefix } = await freshStream();
    const received: DomainEvent[] = [];
    const consumer: RunningConsumer = startConsumer({
      link,
      stream,
      durableName: "dashboard",
      handler: async (e) => {
        received.push(e);
      },
    });
    running.push(consumer);
    const relay = new OutboxRelay({ db, link, subjectPrefix: prefix, pollIntervalMs: 5_000 });
    relay.start();
    running.push(relay);
    // Let the first (empty) poll pass, so only the kick can explain a prompt publish.
    await new Promise((r) => setTimeout(r, 200));
    const events = [orgUpdated(), orgDeleted()];
    await append(prefix, ...events);
    relay.kick();
    await waitFor("both events", () => received.length === 2, 3_000);
    expect(received).toEqual(events);
  });
});

describe("OutboxRelay and rows NATS refuses", () => {
  // Regression: rows were claimed oldest first and a failed publish ended the batch, so one row that could
  // never be published held back every row behind it, forever.
  it("passes over a refused row so the rows behind it are published, and parks it after maxAttempts", async () => {
    const { stream, prefix } = await freshStream();
    const poisonId = await appendUnroutable(prefix);
    await append(prefix, orgUpdated(), orgDeleted());
    const logger = memoryLogger();
    const parked: ParkedRow[] = [];
    const relay = new OutboxRelay({
      db,
      link,
      logger,
      subjectPrefix: prefix,
      maxAttempts: 3,
      observer: { parked: (row) => parked.push(row) },
    });

    expect(await relay.drainOnce()).toBe(2);
    let poison = await db.outboxEvent.findUniqueOrThrow({ where: { id: poisonId } });
    expect(poison).toMatchObject({ attempts: 1, publishedAt: null, parkedAt: null });
    expect(poison.lastError).toMatch(/no stream captures this subject/);
    expect(relay.parkedCount).toBe(0);

    // Each later pass in which a row behind it is published counts one more refusal.
    for (const attempt of [2, 3]) {
      await append(prefix, orgUpdated());
      expect(await relay.drainOnce()).toBe(1);
      poison = await db.outboxEvent.findUniqueOrThrow({ where: { id: poisonId } });
      expect(poison.attempts).toBe(attempt);
    }
    expect(poison.publishedAt).toBeNull();
    expect(poison.parkedAt).toBeInstanceOf(Date);
    expect(relay.parkedCount).toBe(1);
    expect(parked).toEqual([
      {
        id: poisonId,
        subject: poison.subject,
        type: "organization.updated",
        attempts: 3,
        lastError: poison.lastError,
      },
    ]);
    const alerts = logger.entries.filter((e) => "alert" in e.obj);
    expect(alerts).toEqual([
      {
        level: "error",
        obj: expect.objectContaining({ alert: "outbox_row_parked", outboxId: poisonId, type: "organization.updated" }),
        msg: expect.stringMatching(/parked/),
      },
    ]);
    expect(JSON.stringify(logger.entries)).not.toContain(PAYLOAD_MARKER);

    // Parked means never claimed again, by this relay or any other.
    await append(prefix, orgUpdated());
    const other = new OutboxRelay({ db, link, subjectPrefix: prefix, maxAttempts: 3 });
    expect(await other.drainOnce()).toBe(1);
    expect(await relay.drainOnce()).toBe(0);
    expect(await db.outboxEvent.findUniqueOrThrow({ where: { id: poisonId } })).toEqual(poison);
    expect((await jsm.streams.info(stream)).state.messages).toBe(5);
  });

  it("keeps going past more refused rows than fit in one batch", async () => {
    const { prefix } = await freshStream();
    const poisonIds = [await appendUnroutable(prefix), await appendUnroutable(prefix), await appendUnroutable(prefix)];
    const good = await append(prefix, orgUpdated(), orgUpdated());
    const relay = new OutboxRelay({ db, link, subjectPrefix: prefix, batchSize: 2 });
    expect(await relay.drainOnce()).toBe(2);
    const rows = await db.outboxEvent.findMany({ where: { id: { in: [...poisonIds, ...good] } } });
    expect(rows.filter((r) => r.publishedAt !== null).map((r) => r.id)).toEqual(expect.arrayContaining(good));
    // Every refused row came before a publish that worked: each refusal counted once.
    expect(rows.filter((r) => poisonIds.includes(r.id)).map((r) => r.attempts)).toEqual([1, 1, 1]);
  });

  it("counts nothing when NATS refuses every row (here: the stream is missing), so good rows are never parked", async () => {
    const prefix = uniq("nostream");
    prefixes.push(prefix);
    const ids = await append(prefix, orgUpdated(), orgDeleted());
    const logger = memoryLogger();
    const relay = new OutboxRelay({ db, link, logger, subjectPrefix: prefix, maxAttempts: 2 });
    for (let pass = 0; pass < 5; pass++) expect(await relay.drainOnce()).toBe(0);

    const rows = await db.outboxEvent.findMany({ where: { id: { in: ids } } });
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row).toMatchObject({ attempts: 0, parkedAt: null, publishedAt: null });
      expect(row.lastError).toMatch(/no stream captures this subject/);
    }
    expect(relay.parkedCount).toBe(0);
    expect(logger.entries.filter((e) => e.level === "error")).toEqual([]);

    // The stream appears (say the on-connect hook recreated it): everything goes out.
    const stream = prefix.toUpperCase();
    streams.push(stream);
    await ensureStream(jsm, { name: stream, subjects: [organizationSubjects(prefix)] });
    expect(await relay.drainOnce()).toBe(2);
  });

  it("publishes a row committed behind a refused one at once on kick(), without waiting out a backoff", async () => {
    const { prefix } = await freshStream();
    const poisonId = await appendUnroutable(prefix);
    // A long poll interval: only the kick can explain a prompt publish.
    const relay = new OutboxRelay({ db, link, subjectPrefix: prefix, pollIntervalMs: 5_000, maxAttempts: 2 });
    relay.start();
    running.push(relay);
    // The first pass finds only the refused row and backs off.
    await waitFor(
      "the first refusal",
      async () => (await db.outboxEvent.findUniqueOrThrow({ where: { id: poisonId } })).lastError,
    );

    for (const attempts of [1, 2]) {
      const [id] = await append(prefix, orgUpdated());
      relay.kick();
      await waitFor(
        "the row behind it published",
        async () => (await db.outboxEvent.findUniqueOrThrow({ where: { id } })).publishedAt,
        2_000,
      );
      await waitFor(
        `refusal ${attempts} counted`,
        async () => (await db.outboxEvent.findUniqueOrThrow({ where: { id: poisonId } })).attempts === attempts,
        2_000,
      );
    }
    expect((await db.outboxEvent.findUniqueOrThrow({ where: { id: poisonId } })).parkedAt).toBeInstanceOf(Date);
  });
});
