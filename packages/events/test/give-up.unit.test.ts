import { describe, expect, it } from "vitest";
import { giveUpOf } from "../src/nats-jetstream";

const body = (value: unknown) => new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));

describe("reading JetStream's give-up advisories", () => {
  it("reads the stream and consumer from the subject, the sequence and deliveries from the body", () => {
    expect(
      giveUpOf(
        "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.IPAAS_OTP_DELIVERY.otp-delivery",
        body({
          type: "io.nats.jetstream.advisory.v1.max_deliver",
          stream: "IPAAS_OTP_DELIVERY",
          consumer: "otp-delivery",
          stream_seq: 42,
          deliveries: 30,
        }),
      ),
    ).toEqual({
      stream: "IPAAS_OTP_DELIVERY",
      consumer: "otp-delivery",
      streamSequence: 42,
      deliveries: 30,
      reason: "max_deliveries",
    });
    expect(
      giveUpOf(
        "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.S.c",
        body({ stream: "S", consumer: "c", consumer_seq: 9, stream_seq: 7, deliveries: 1, reason: "" }),
      ),
    ).toEqual({ stream: "S", consumer: "c", streamSequence: 7, deliveries: 1, reason: "terminated" });
  });

  it("still reports a give-up whose body is unreadable, and ignores other subjects", () => {
    const unknown = { stream: "S", consumer: "c", streamSequence: null, deliveries: null, reason: "max_deliveries" };
    const subject = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.S.c";
    expect(giveUpOf(subject, body("{not json"))).toEqual(unknown);
    expect(giveUpOf(subject, body("null"))).toEqual(unknown);
    expect(giveUpOf(subject, body({ stream_seq: "42", deliveries: -1 }))).toEqual(unknown);
    expect(giveUpOf(subject, body({ stream_seq: 1.5, deliveries: 2 ** 60 }))).toEqual(unknown);
    expect(giveUpOf("$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.S.c", body({ stream_seq: 1 }))).toBeNull();
    expect(giveUpOf("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.S", body({ stream_seq: 1 }))).toBeNull();
    expect(giveUpOf("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.S.c.x", body({ stream_seq: 1 }))).toBeNull();
  });
});
