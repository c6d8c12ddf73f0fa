// The world of the delivery tests: a private database and nats-server (the delivery queue's consumer is
// shared by every api-auth instance on a NATS server, so another test file's app must not take these
// messages), a real SMTP server and a Messages API gateway, and one api-auth app delivering through them.
import { createTestDatabase } from "@ipaas/db/testing";
import type { FastifyInstance } from "fastify";
import { buildApiAuth } from "./api";
import { type LogCapture, NatsServerProcess, waitFor } from "./infrastructure";
import { MessagesGateway } from "./messages-gateway";
import { SmtpSink } from "./smtp";

export interface DeliveryWorld {
  app: FastifyInstance;
  /** The world's own database and NATS server, for another app (a dashboard) to join it. */
  databaseUrl: string;
  natsUrl: string;
  smtp: SmtpSink;
  gateway: MessagesGateway;
  /**
   * The code in the next message to `destination` (an email address or an E.164 number) that this call
   * has not returned yet, waiting for it to arrive: the code as the person reads it.
   */
  nextCode(destination: string): Promise<string>;
  /** Stops the app and starts it again on the same database, NATS and servers, with `env` over its settings. */
  restart(env: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

/** `logs`, when given, collects every line the app writes (at `LOG_LEVEL`, which `env` may set). */
export async function buildDeliveryWorld(env: Record<string, string> = {}, logs?: LogCapture): Promise<DeliveryWorld> {
  const nats = await NatsServerProcess.create();
  const database = await createTestDatabase({ prefix: "ipaas_delivery" });
  const smtp = await SmtpSink.start();
  const gateway = await MessagesGateway.start();
  const settings: Record<string, string> = {
    DATABASE_URL: database.url,
    NATS_URL: nats.url,
    SMTP_URL: smtp.url,
    SMS_PROVIDER: "http",
    SMS_API_URL: gateway.url,
    SMS_ACCOUNT_ID: "AC_test",
    SMS_AUTH_TOKEN: "gateway-token",
    SMS_FROM: "+15005550006",
    WHATSAPP_FROM: "+15005550007",
    OTP_DELIVERY_RETRY_MS: "50",
    OTP_DELIVERY_TIMEOUT_MS: "500",
    OTP_DELIVERY_MAX_ATTEMPTS: "3",
    ...env,
  };
  const read = new Map<string, number>();
  const world: DeliveryWorld = {
    app: await buildApiAuth({ env: settings, ...(logs ? { logs } : {}) }),
    databaseUrl: database.url,
    natsUrl: nats.url,
    smtp,
    gateway,
    async nextCode(destination) {
      const seen = read.get(destination) ?? 0;
      const texts = () =>
        destination.includes("@")
          ? smtp.to(destination).map((m) => m.text)
          : gateway.delivered.filter((m) => m.to.replace(/^whatsapp:/, "") === destination).map((m) => m.body);
      const text = await waitFor(`a code for ${destination}`, () => texts()[seen] ?? null, 15_000, 10);
      read.set(destination, seen + 1);
      const code = /(\d{6,8}) is your/.exec(text)?.[1];
      if (!code) throw new Error("no code in the message");
      return code;
    },
    async restart(more) {
      await world.app.close();
      world.app = await buildApiAuth({ env: { ...settings, ...more }, ...(logs ? { logs } : {}) });
    },
    async close() {
      await world.app.close();
      await gateway.close();
      await smtp.close();
      await nats.dispose();
      await database.drop();
    },
  };
  return world;
}
