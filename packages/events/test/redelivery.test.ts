// What JetStream does with a message that is not acknowledged in time, against the shared nats-server: a
// message a consumer gives up on raises one alert while the events behind it keep flowing, and a handler
// slower than the ack wait sees its event again but applies it once.
import type { JetStreamManager } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  alertOnGiveUps,
  applyOnce,
  type DomainEvent,
  EVENT_TYPE_HEADER,
  ensureStream,
  NatsLink,
  organizationSubjects,
  type RunningConsumer,
  startConsumer,
  subjectFor,
} from "../src/index";
import { type LogEntry, memoryLogger, orgUpdated, SHARED_NATS, testDb, uniq, waitFor, writeEffect } from "./helpers";

const db = testDb();
const link = new NatsLink({ servers: SHARED_NATS, name: "events-redelivery-test" });
/** Another instance of the same service: its own connection, watching the same streams. */
const otherInstance = new NatsLink({ servers: SHARED_NATS, name: "events-redelivery-test-2" });
let jsm: JetStreamManager;
const streams: string[] = [];
const cleanups: Array<() => Promise<void> | void> = [];

async function freshStream(): Promise<{ stream: string; prefix: string }> {
  const prefix = uniq("redeliver");
  const stream = prefix.toUpperCase();
  streams.push(stream);
  await ensureStream(jsm, { name: stream, subjects: [organizationSubjects(prefix)] });
  return { stream, prefix };
}

async function publish(prefix: string, event: DomainEvent, msgID: string): Promise<void> {
  const h = headers();
  h.set(EVENT_TYPE_HEADER, event.type);
  await link.jetstream().publish(subjectFor(event, prefix), JSON.stringify(event.data), { msgID, headers: h });
}

function consume(options: Omit<Parameters<typeof startConsumer>[0], "link">): RunningConsumer {
  const c = startConsumer({ link, ...options });
  cleanups.push(() => c.stop());
  return c;
}

/** Alerts on the stream's give-ups from both instances; resolves once the server has their subscriptions. */
async function alertsFromBothInstances(stream: string) {
  const loggers = [memoryLogger(), memoryLogger()];
  cleanups.push(alertOnGiveUps(link, [stream], loggers[0] ?? memoryLogger()));
  cleanups.push(alertOnGiveUps(otherInstance, [stream], loggers[1] ?? memoryLogger()));
  await link.connection().flush();
  await otherInstance.connection().flush();
  return (): LogEntry[] =>
    loggers.flatMap((l) => l.entries).filter((e) => (e.obj as { alert?: string }).alert === "event_dead_lettered");
}

/** Never to appear in a log line. */
const PAYLOAD_MARKER = "payload-sentinel-93be";

beforeAll(async () => {
  link.start();
  otherInstance.start();
  await waitFor("NATS", () => link.isConnected() && otherInstance.isConnected());
  jsm = await link.jetstreamManager();
});

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

afterAll(async () => {
  for (const s of streams) await jsm.streams.delete(s).catch(() => undefined);
  await link.close();
  await otherInstance.close();
  await db.$disconnect();
});

describe("a message a consumer gives up on", () => {
  it("raises one alert naming the stream, consumer, sequence and deliveries, and the events after it keep flowing", async () => {
    const { stream, prefix } = await freshStream();
    const alerts = await alertsFromBothInstances(stream);
    const logger = memoryLogger();
    const poisonDeliveries: number[] = [];
    const handled: string[] = [];
    consume({
      stream,
      durableName: "dead_letter",
      maxDeliver: 3,
      nakDelayMs: () => 50,
      logger,
      handler: async (_event, ctx) => {
        if (ctx.messageId === "poison-1") {
          poisonDeliveries.push(ctx.deliveryCount);
          throw new Error("the handler cannot apply this event");
        }
        handled.push(ctx.messageId);
      },
    });
    const poison = orgUpdated();
    await publish(prefix, { ...poison, data: { ...poison.data, name: PAYLOAD_MARKER } } as DomainEvent, "poison-1");
    for (const id of ["after-1", "after-2", "after-3"]) await publish(prefix, orgUpdated(), id);

    const [alert] = await waitFor("the alert", () => (alerts().length > 0 ? alerts() : null));
    expect(alert?.level).toBe("error");
    expect(alert?.obj).toEqual({
      alert: "event_dead_lettered",
      stream,
      consumer: "dead_letter",
      seq: 1,
      deliveries: 3,
      reason: "max_deliveries",
    });
    expect(poisonDeliveries).toEqual([1, 2, 3]);
    await waitFor("the events behind it", () => handled.length === 3);
    expect(handled).toEqual(["after-1", "after-2", "after-3"]);

    // Given up for good: an event published now is handled, and the poison message is neither delivered
    // again nor alerted again (by either instance).
    await publish(prefix, orgUpdated(), "after-4");
    await waitFor("the next event", () => handled.length === 4);
    const info = await jsm.consumers.info(stream, "dead_letter");
    expect([info.num_pending, info.num_ack_pending]).toEqual([0, 0]);
    expect(poisonDeliveries).toEqual([1, 2, 3]);
    expect(alerts()).toHaveLength(1);
    expect(JSON.stringify(logger.entries)).not.toContain(PAYLOAD_MARKER);
    expect(JSON.stringify(alerts())).not.toContain(PAYLOAD_MARKER);
  });

  it("raises the alert for a poison message the consumer terminates", async () => {
    const { stream, prefix } = await freshStream();
    const alerts = await alertsFromBothInstances(stream);
    const handled: string[] = [];
    consume({
      stream,
      durableName: "terminating",
      handler: async (_event, ctx) => {
        handled.push(ctx.messageId);
      },
    });
    const h = headers();
    h.set(EVENT_TYPE_HEADER, "organization.updated");
    await link.jetstream().publish(`${prefix}.organization.org_x.updated`, `{"name":"${PAYLOAD_MARKER}"`, {
      headers: h,
      msgID: "unparseable-1",
    });
    await publish(prefix, orgUpdated(), "valid-1");

    const [alert] = await waitFor("the alert", () => (alerts().length > 0 ? alerts() : null));
    expect(alert?.obj).toEqual({
      alert: "event_dead_lettered",
      stream,
      consumer: "terminating",
      seq: 1,
      deliveries: 1,
      reason: "terminated",
    });
    await waitFor("the valid event", () => handled.length === 1);
    expect(handled).toEqual(["valid-1"]);
    expect(alerts()).toHaveLength(1);
    expect(JSON.stringify(alerts())).not.toContain(PAYLOAD_MARKER);
  });
});

describe("a handler slower than the ack wait", () => {
  it("gets its event again, applies it once, and both deliveries end acknowledged", async () => {
    const { stream, prefix } = await freshStream();
    const consumerName = uniq("slow");
    const ackWaitMs = 1_000;
    const logger = memoryLogger();
    const deliveries: Array<{ messageId: string; deliveryCount: number; applied: boolean }> = [];
    const info = () => jsm.consumers.info(stream, consumerName);
    const redelivered = async () => (await info()).delivered.consumer_seq >= 2;
    let lateAckSettledIt = false;
    consume({
      stream,
      durableName: consumerName,
      ackWaitMs,
      logger,
      handler: async (event, ctx) => {
        if (ctx.deliveryCount === 2) {
          // Before this delivery is acknowledged: the first one's ack, sent after the redelivery, settled it.
          lateAckSettledIt = await waitFor("the late ack", async () => (await info()).num_ack_pending === 0, 3_000)
            .then(() => true)
            .catch(() => false);
        }
        const applied = await applyOnce(db, consumerName, ctx.messageId, async (tx) => {
          await writeEffect(tx, consumerName, event);
          // The first delivery keeps its transaction open until the server has handed the event out again.
          if (ctx.deliveryCount === 1) await waitFor("the redelivery", redelivered, 5_000);
        });
        deliveries.push({ messageId: ctx.messageId, deliveryCount: ctx.deliveryCount, applied });
      },
    });
    await publish(prefix, orgUpdated(), "slow-1");

    await waitFor("both deliveries", () => deliveries.length >= 2);
    expect(deliveries).toEqual([
      { messageId: "slow-1", deliveryCount: 1, applied: true },
      { messageId: "slow-1", deliveryCount: 2, applied: false },
    ]);
    expect(await db.auditEvent.count({ where: { action: consumerName } })).toBe(1);
    expect(await db.processedEvent.count({ where: { consumer: consumerName } })).toBe(1);
    expect(lateAckSettledIt).toBe(true);

    // The second ack, for a message already settled, changes nothing, and nothing comes back once another
    // ack wait has passed.
    await new Promise((r) => setTimeout(r, ackWaitMs + 300));
    const after = await info();
    expect([after.num_ack_pending, after.num_redelivered, after.ack_floor.stream_seq]).toEqual([0, 0, 1]);
    expect(deliveries).toHaveLength(2);

    // The consumer goes on as before: the next event is delivered once and applied.
    await publish(prefix, orgUpdated(), "slow-2");
    await waitFor("the next event", () => deliveries.length === 3);
    expect(deliveries[2]).toEqual({ messageId: "slow-2", deliveryCount: 1, applied: true });
    // Neither a failed handler nor a restarted consumer along the way.
    expect(logger.entries.filter((e) => e.level !== "info")).toEqual([]);
  });
});
