// The consumers' own loop (startConsumer) over the in-process transport: the same handling as over NATS.
import { describe, expect, it } from "vitest";
import { ACCESS_STREAM, DEFAULT_SUBJECT_PREFIX, type DomainEvent, EVENT_TYPE_HEADER, startConsumer } from "../src";
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
