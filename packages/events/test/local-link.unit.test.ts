// The consumers' own loop (startConsumer) over the in-process transport: the same handling as over NATS.
import { describe, expect, it } from "vitest";
import {
  ACCESS_STREAM,
  alertOnGiveUps,
  DEFAULT_SUBJECT_PREFIX,
  type DomainEvent,
  EVENT_TYPE_HEADER,
  type EventsLogger,
  LocalBus,
  startConsumer,
} from "../src";
import { LocalLink } from "../src/local-link";

const revoked = (jti: string) =>
  new TextEncoder().encode(
    JSON.stringify({
      organizationId: "org_local",
      jti,
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
      occurredAt: new Date().toISOString(),
    }),
  );

describe("the in-process transport", () => {
  it("carries events to the consumers' loop: handled, retried after a failure, poison terminated, one per message id", async () => {
    const link = new LocalLink();
    link.start();
    await link.ensureStream({ name: ACCESS_STREAM.name, subjects: ACCESS_STREAM.subjects(DEFAULT_SUBJECT_PREFIX) });
    const subject = `${DEFAULT_SUBJECT_PREFIX}.token.revoked`;
    const headers = { [EVENT_TYPE_HEADER]: "token.revoked" };

    const seen: Array<{ jti: string; messageId: string; deliveryCount: number }> = [];
    let failOnce = true;
    const consumer = startConsumer({
      link,
      stream: ACCESS_STREAM.name,
      durableName: "local_test",
      nakDelayMs: () => 20,
      handler: async (event: DomainEvent, context) => {
        if (event.type !== "token.revoked") return;
        if (event.data.jti === "flaky" && failOnce) {
          failOnce = false;
          throw new Error("not yet");
        }
        seen.push({ jti: event.data.jti, messageId: context.messageId, deliveryCount: context.deliveryCount });
      },
    });
    const timeoutMs = 1_000;
    await link.publish(subject, revoked("first"), { msgId: "m1", headers, timeoutMs });
    await link.publish(subject, revoked("first"), { msgId: "m1", headers, timeoutMs });
    await link.publish(subject, new TextEncoder().encode("{not json"), { msgId: "m2", headers, timeoutMs });
    await link.publish(subject, revoked("flaky"), { msgId: "m3", headers, timeoutMs });
    await link.publish(subject, revoked("last"), { msgId: "m4", headers, timeoutMs });
    await expect.poll(() => seen.length).toBe(3);
    expect(seen).toEqual(
      expect.arrayContaining([
        { jti: "first", messageId: "m1", deliveryCount: 1 },
        { jti: "flaky", messageId: "m3", deliveryCount: 2 },
        { jti: "last", messageId: "m4", deliveryCount: 1 },
      ]),
    );
    await expect(link.publish("elsewhere.x", revoked("x"), { msgId: "m5", headers, timeoutMs })).rejects.toSatisfy(
      (error: unknown) => link.refusedMessage(error),
    );
    await consumer.stop();
    await link.close();
    expect(link.status().ok).toBe(false);
  });
});

/** Remembers its error lines. */
function errorLog(): EventsLogger & { errors: Array<{ obj: object; msg: string | undefined }> } {
  const errors: Array<{ obj: object; msg: string | undefined }> = [];
  return { errors, info() {}, warn() {}, error: (obj, msg) => errors.push({ obj, msg }) };
}

describe("give-up alerts over the in-process transport", () => {
  it("logs one alert for an event its handler keeps failing, from one of the services sharing the bus, and goes on", async () => {
    const bus = new LocalBus();
    // Two services of the embedded mode, each with its own link to the one bus, both alerting.
    const link = new LocalLink(bus);
    const otherService = new LocalLink(bus);
    const logs = [errorLog(), errorLog()];
    const counted = [0, 0];
    const stops = [link, otherService].map((l, i) =>
      alertOnGiveUps(l, [ACCESS_STREAM.name], logs[i] ?? errorLog(), () => {
        counted[i] = (counted[i] ?? 0) + 1;
      }),
    );
    link.start();
    otherService.start();
    await link.ensureStream({ name: ACCESS_STREAM.name, subjects: ACCESS_STREAM.subjects(DEFAULT_SUBJECT_PREFIX) });
    const subject = `${DEFAULT_SUBJECT_PREFIX}.token.revoked`;
    const headers = { [EVENT_TYPE_HEADER]: "token.revoked" };

    const poisonDeliveries: number[] = [];
    const handled: string[] = [];
    const consumer = startConsumer({
      link,
      stream: ACCESS_STREAM.name,
      durableName: "local_alarm",
      maxDeliver: 3,
      nakDelayMs: () => 5,
      handler: async (event, context) => {
        if (event.type !== "token.revoked") return;
        if (event.data.jti === "poison") {
          poisonDeliveries.push(context.deliveryCount);
          throw new Error("cannot apply");
        }
        handled.push(event.data.jti);
      },
    });
    const timeoutMs = 1_000;
    await link.publish(subject, revoked("poison"), { msgId: "m1", headers, timeoutMs });
    await link.publish(subject, revoked("next"), { msgId: "m2", headers, timeoutMs });
    const alerts = () => logs.flatMap((l) => l.errors);
    await expect.poll(() => alerts().length).toBe(1);
    expect(alerts()[0]?.obj).toEqual({
      alert: "event_dead_lettered",
      stream: ACCESS_STREAM.name,
      consumer: "local_alarm",
      seq: 1,
      deliveries: 3,
      reason: "max_deliveries",
    });
    await link.publish(subject, revoked("last"), { msgId: "m3", headers, timeoutMs });
    await expect.poll(() => handled).toEqual(["next", "last"]);
    expect(poisonDeliveries).toEqual([1, 2, 3]);
    expect(alerts()).toHaveLength(1);
    // Counted once, by the service that logged it.
    expect(counted).toEqual(logs.map((l) => l.errors.length));

    // Stopped: a message terminated now alerts nobody.
    for (const stop of stops) stop();
    await link.publish(subject, new TextEncoder().encode("{not json"), { msgId: "m4", headers, timeoutMs });
    await link.publish(subject, revoked("after"), { msgId: "m5", headers, timeoutMs });
    await expect.poll(() => handled).toEqual(["next", "last", "after"]);
    expect(alerts()).toHaveLength(1);
    await consumer.stop();
  });
});
