import type { Channel } from "@ipaas/domain";
import { OTP_DELIVERY_STREAM, type RunningConsumer, startConsumer } from "@ipaas/events";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import type { ApiConfig } from "../config";
import { CodeDelivery } from "../domain/end-users/delivery";
import { DevelopmentSender } from "../domain/end-users/senders/development";
import { EmailSender } from "../domain/end-users/senders/email";
import { HttpMessagesSender } from "../domain/end-users/senders/http-messages";
import type { CodeSender } from "../domain/end-users/senders/sender";

declare module "fastify" {
  interface FastifyInstance {
    codeDelivery: CodeDelivery;
  }
}

/** The consumer every api-auth instance shares: each queued code is delivered by one of them. */
const CONSUMER = "otp-delivery";

function senders(app: FastifyInstance, config: ApiConfig): Record<Channel, CodeSender> {
  const development = new DevelopmentSender((line) => app.log.info({ alert: "development_delivery" }, line));
  let email: CodeSender = development;
  if (config.SMTP_URL) {
    const sender = new EmailSender(config.SMTP_URL, config.MAIL_FROM, config.OTP_DELIVERY_TIMEOUT_MS);
    app.addHook("onClose", async () => sender.close());
    email = sender;
  }
  let phone: CodeSender = development;
  if (config.SMS_PROVIDER === "http") {
    const { SMS_API_URL, SMS_ACCOUNT_ID, SMS_AUTH_TOKEN, SMS_FROM } = config;
    if (!SMS_API_URL || !SMS_ACCOUNT_ID || !SMS_AUTH_TOKEN || !SMS_FROM) {
      throw new Error("SMS_PROVIDER=http needs SMS_API_URL, SMS_ACCOUNT_ID, SMS_AUTH_TOKEN and SMS_FROM");
    }
    phone = new HttpMessagesSender({
      baseUrl: SMS_API_URL,
      accountId: SMS_ACCOUNT_ID,
      authToken: SMS_AUTH_TOKEN,
      smsFrom: SMS_FROM,
      whatsappFrom: config.WHATSAPP_FROM,
      timeoutMs: config.OTP_DELIVERY_TIMEOUT_MS,
    });
  }
  return { email, sms: phone, whatsapp: phone };
}

/**
 * Delivers queued codes: a durable JetStream consumer on the delivery work queue, shared by every
 * instance, hands each request to `CodeDelivery`; a failure that may pass goes back to the queue and is
 * tried again after a delay that doubles (`OTP_DELIVERY_RETRY_MS`, at most 60 s). A message still failing
 * after `maxDeliver` deliveries is given up, which the events plugin logs as `alert: "event_dead_lettered"`.
 */
export const codeDeliveryPlugin = fp(
  async (app: FastifyInstance, { config }: { config: ApiConfig }) => {
    const timeout = config.OTP_DELIVERY_TIMEOUT_MS;
    const leaseMs = 2 * timeout + 5_000;
    const delivery = new CodeDelivery(app.db, app.masterKey, senders(app, config), {
      maxAttempts: config.OTP_DELIVERY_MAX_ATTEMPTS,
      leaseMs,
    });
    app.decorate("codeDelivery", delivery);
    // CodeDelivery settles a request (sent, or failed after OTP_DELIVERY_MAX_ATTEMPTS) in one delivery per
    // attempt: each delivery that reaches a sender counts one. Others count nothing: those that find another
    // worker's lease (an attempt that crashed or outlived the ack wait holds it for leaseMs) and those the
    // database fails. Twice the attempts plus 20 leaves room for them: at the default retry delays (2 s,
    // doubling up to 60 s) some 25 minutes of redelivery, past the life of a code. A message failing for
    // longer (a long database outage, a fault) is given up and the alarm fires, instead of being redelivered
    // forever.
    const maxDeliver = 2 * config.OTP_DELIVERY_MAX_ATTEMPTS + 20;
    const logger = app.log.child({ component: "otp-delivery" });
    let consumer: RunningConsumer | null = null;
    app.addHook("onReady", async () => {
      consumer = startConsumer({
        link: app.eventLink,
        stream: OTP_DELIVERY_STREAM.name,
        durableName: CONSUMER,
        ackWaitMs: leaseMs + 5_000,
        maxDeliver,
        nakDelayMs: (deliveryCount) =>
          Math.min(60_000, config.OTP_DELIVERY_RETRY_MS * 2 ** Math.min(deliveryCount - 1, 10)),
        logger,
        handler: async (event) => {
          if (event.type !== "otp.delivery_requested") return;
          const outcome = await delivery.deliver(event.data.requestId);
          logger.info({ requestId: event.data.requestId, outcome }, "one-time code delivery");
        },
      });
    });
    app.addHook("onClose", async () => {
      await consumer?.stop();
    });
  },
  { name: "code-delivery", dependencies: ["events", "database", "platform"] },
);
