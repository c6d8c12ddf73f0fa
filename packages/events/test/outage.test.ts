// These tests stop and restart a nats-server of their own (never the shared one on 4222).
import { afterEach, describe, expect, it } from "vitest";
import {
  alertOnGiveUps,
  appendToOutbox,
  type DomainEvent,
  EVENT_TYPE_HEADER,
  ensureStream,
  NatsLink,
  NatsNotConnectedError,
  OutboxRelay,
  organizationSubjects,
  startConsumer,
  subjectFor,
} from "../src/index";
import { memoryLogger, NatsServerProcess, orgDeleted, orgUpdated, testDb, uniq, waitFor } from "./helpers";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function ownServer(): Promise<NatsServerProcess> {
  const server = await NatsServerProcess.create({ start: false });
  cleanups.push(() => server.dispose());
  return server;
}

function ownLink(server: NatsServerProcess): NatsLink {
  const link = new NatsLink({
    servers: server.url,
    name: "events-outage-test",
    logger: memoryLogger(),
    connectTimeoutMs: 500,
    retryMinMs: 50,
    retryMaxMs: 250,
    reconnectTimeWaitMs: 100,
    requestTimeoutMs: 2_000,
  });
  cleanups.push(() => link.close());
  return link;
}

describe("NatsLink", () => {
  it("reports why it is not connected, connects once a server starts, and follows drops", async () => {
    const server = await ownServer();
    const link = ownLink(server);
    let connects = 0;
    link.onConnect(() => {
      connects++;
    });
    expect(link.status()).toEqual({ ok: false, detail: "not started" });

    link.start(); // returns at once although nothing listens on the port
    const down = await waitFor("a failed attempt", () => {
      const s = link.status();
      return s.detail.startsWith("cannot reach") ? s : null;
    });
    expect(down).toEqual({ ok: false, detail: `cannot reach ${server.url}: ECONNREFUSED` });
    expect(() => link.jetstream()).toThrow(NatsNotConnectedError);
    await expect(link.jetstreamManager()).rejects.toThrow(/NATS is not connected: cannot reach/);

    await server.start();
    await waitFor("connected", () => link.status().ok, 5_000);
    expect(link.status()).toEqual({ ok: true, detail: `connected to ${server.url}` });
    await waitFor("the connect hook", () => connects === 1);
    expect((await (await link.jetstreamManager()).getAccountInfo()).streams).toBe(0);

    await server.stop();
    const lost = await waitFor("the drop", () => (link.status().ok ? null : link.status()), 5_000);
    expect(lost.detail).toMatch(new RegExp(`^reconnecting to ${server.url}`));

    await server.start();
    await waitFor("reconnected", () => link.status().ok, 5_000);
    await waitFor("the reconnect hook", () => connects === 2);

    await link.close();
    expect(link.status()).toEqual({ ok: false, detail: "closed" });
  });
});

describe("an outage of NATS", () => {
  it("keeps events pending while NATS is down and delivers them once it is back", async () => {
    const db = testDb();
    cleanups.push(() => db.$disconnect());
    const server = await ownServer();
    await server.start();
    const link = ownLink(server);
    const prefix = uniq("outage");
    const stream = prefix.toUpperCase();
    cleanups.push(async () => {
      await db.outboxEvent.deleteMany({ where: { subject: { startsWith: `${prefix}.` } } });
    });
    link.onConnect(async (l) => {
      await ensureStream(await l.jetstreamManager(), { name: stream, subjects: [organizationSubjects(prefix)] });
    });
    link.start();
    await waitFor("connected", () => link.isConnected());

    const durable: DomainEvent[] = [];
    const ephemeral: DomainEvent[] = [];
    const consumers = [
      startConsumer({
        link,
        stream,
        durableName: "api_auth",
        handler: async (e) => {
          durable.push(e);
        },
      }),
      startConsumer({
        link,
        stream,
        handler: async (e) => {
          ephemeral.push(e);
        },
      }),
    ];
    cleanups.push(async () => {
      await Promise.all(consumers.map((c) => c.stop()));
    });
    const relay = new OutboxRelay({ db, link, subjectPrefix: prefix, pollIntervalMs: 50, maxBackoffMs: 500 });
    cleanups.push(() => relay.stop());
    relay.start();

    // Both consumers are up and events flow.
    const append = (event: DomainEvent) =>
      db.$transaction((tx) => appendToOutbox(tx, event, { subjectPrefix: prefix }));
    const first = orgUpdated();
    await append(first);
    relay.kick();
    await waitFor("the first event", () => durable.length === 1 && ephemeral.length === 1);

    await server.stop();
    await waitFor("the drop", () => !link.isConnected());

    // Writes still commit; nothing can be published; the rows stay pending with the failure recorded.
    const during = [orgUpdated(), orgDeleted(), orgUpdated()];
    const ids: string[] = [];
    for (const e of during) ids.push(await append(e));
    expect(await relay.drainOnce()).toBe(0);
    const pending = await db.outboxEvent.findMany({ where: { id: { in: ids } }, orderBy: { createdAt: "asc" } });
    expect(pending.every((r) => r.publishedAt === null)).toBe(true);
    const oldest = pending.find((r) => r.id === ids[0]);
    // An outage is not the row's fault: the failure is recorded, but it does not count toward parking.
    expect(oldest?.attempts).toBe(0);
    expect(oldest?.lastError).toMatch(/NatsNotConnectedError: NATS is not connected/);

    // NATS comes back (same store): the relay publishes the backlog by itself and both consumers get it.
    await server.start();
    await waitFor("every event", () => durable.length === 4 && ephemeral.length === 4, 10_000);
    expect(durable).toEqual([first, ...during]);
    expect(ephemeral).toEqual([first, ...during]);
    // The relay marks its batch once the transaction commits, which may be just after delivery.
    await waitFor("the backlog marked published", async () =>
      (await db.outboxEvent.findMany({ where: { id: { in: ids } } })).every((r) => r.publishedAt !== null),
    );
    const jsm = await link.jetstreamManager();
    expect((await jsm.streams.info(stream)).state.messages).toBe(4);
  });
});

describe("give-up alerts", () => {
  it("watch from before the first connect, and again once NATS is back from an outage", async () => {
    const server = await ownServer();
    const link = ownLink(server);
    const prefix = uniq("outage_alert");
    const stream = prefix.toUpperCase();
    const logger = memoryLogger();
    const stopAlerts = alertOnGiveUps(link, [stream], logger);
    cleanups.push(async () => stopAlerts());
    await server.start();
    link.start();
    await waitFor("connected", () => link.isConnected());
    await ensureStream(await link.jetstreamManager(), { name: stream, subjects: [organizationSubjects(prefix)] });

    await server.stop();
    await waitFor("the drop", () => !link.isConnected());
    await server.start();
    await waitFor("reconnected", () => link.isConnected(), 10_000);
    await link.connection().flush();

    const consumer = startConsumer({
      link,
      stream,
      durableName: "failing",
      maxDeliver: 1,
      nakDelayMs: () => 10,
      handler: async () => {
        throw new Error("cannot apply");
      },
    });
    cleanups.push(() => consumer.stop());
    const event = orgUpdated();
    await link.publish(subjectFor(event, prefix), new TextEncoder().encode(JSON.stringify(event.data)), {
      msgId: uniq("evt"),
      headers: { [EVENT_TYPE_HEADER]: event.type },
      timeoutMs: 2_000,
    });
    const alert = await waitFor("the alert", () => logger.entries.find((e) => e.level === "error"));
    expect(alert.obj).toEqual({
      alert: "event_dead_lettered",
      stream,
      consumer: "failing",
      seq: 1,
      deliveries: 1,
      reason: "max_deliveries",
    });
  });
});

describe("parking outbox rows", () => {
  it("parks nothing during a NATS outage longer than maxAttempts, then publishes every row", async () => {
    const db = testDb();
    cleanups.push(() => db.$disconnect());
    const server = await ownServer();
    await server.start();
    const link = ownLink(server);
    const prefix = uniq("outage_park");
    cleanups.push(async () => {
      await db.outboxEvent.deleteMany({ where: { subject: { startsWith: `${prefix}.` } } });
    });
    link.onConnect(async (l) => {
      await ensureStream(await l.jetstreamManager(), {
        name: prefix.toUpperCase(),
        subjects: [organizationSubjects(prefix)],
      });
    });
    link.start();
    await waitFor("connected", () => link.isConnected());
    const logger = memoryLogger();
    const relay = new OutboxRelay({ db, link, logger, subjectPrefix: prefix, maxAttempts: 2 });
    const ids = await db.$transaction(async (tx) => [
      await appendToOutbox(tx, orgUpdated(), { subjectPrefix: prefix }),
      await appendToOutbox(tx, orgDeleted(), { subjectPrefix: prefix }),
    ]);

    await server.stop();
    await waitFor("the drop", () => !link.isConnected());
    for (let attempt = 0; attempt < 5; attempt++) expect(await relay.drainOnce()).toBe(0);
    const rows = await db.outboxEvent.findMany({ where: { id: { in: ids } } });
    expect(rows.map((r) => ({ attempts: r.attempts, parkedAt: r.parkedAt, publishedAt: r.publishedAt }))).toEqual([
      { attempts: 0, parkedAt: null, publishedAt: null },
      { attempts: 0, parkedAt: null, publishedAt: null },
    ]);
    expect(relay.parkedCount).toBe(0);
    expect(logger.entries.filter((e) => e.level === "error")).toEqual([]);

    await server.start();
    await waitFor("reconnected", () => link.isConnected(), 10_000);
    // The stream is ensured by the on-connect hook, just after the reconnect.
    await waitFor("every row published", async () => (await relay.drainOnce()) === 2 || null, 10_000);
    expect(await db.outboxEvent.count({ where: { id: { in: ids }, publishedAt: { not: null } } })).toBe(2);
  });

  it("parks nothing while NATS was never reachable (nothing listens on the port)", async () => {
    const db = testDb();
    cleanups.push(() => db.$disconnect());
    const link = ownLink(await ownServer());
    link.start();
    const prefix = uniq("dead_port");
    cleanups.push(async () => {
      await db.outboxEvent.deleteMany({ where: { subject: { startsWith: `${prefix}.` } } });
    });
    const id = await db.$transaction((tx) => appendToOutbox(tx, orgUpdated(), { subjectPrefix: prefix }));
    const relay = new OutboxRelay({ db, link, subjectPrefix: prefix, maxAttempts: 1 });
    for (let attempt = 0; attempt < 3; attempt++) expect(await relay.drainOnce()).toBe(0);
    expect(await db.outboxEvent.findUniqueOrThrow({ where: { id } })).toMatchObject({
      attempts: 0,
      parkedAt: null,
      publishedAt: null,
      lastError: expect.stringMatching(/NatsNotConnectedError/),
    });
  });
});
