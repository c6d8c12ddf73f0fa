// The world of the SDK's tests: a private database and nats-server (the code-delivery queue is shared by
// every api-auth on a NATS server), a real SMTP server, api-auth listening on a real port with the
// development SMS provider (codes written to its log), and dashboard-auth on the same database and NATS,
// where organizations register and get their API keys as partners do.
import { createTestDatabase } from "@ipaas/db/testing";
import type { FastifyInstance } from "fastify";
import { buildApiAuth } from "./api";
import { as, buildDashboard, enrolAndLogin, registerOrganization } from "./dashboard";
import { freePort, LogCapture, NatsServerProcess, waitFor } from "./infrastructure";
import { SmtpSink } from "./smtp";

export interface SdkOrganization {
  orgId: string;
  clientKey: string;
  clientSecret: string;
  apiKey: string;
  /** Rotates the client secret in the dashboard, making the tokens issued so far inactive; the new API key. */
  rotate(): Promise<string>;
}

export interface SdkWorld {
  /** api-auth's base URL, as partners configure it (`IPAAS_BASE_URL`). */
  baseUrl: string;
  api: FastifyInstance;
  dashboard: FastifyInstance;
  /** A newly registered organization holding the `otp` scope, with its API key. */
  organization(): Promise<SdkOrganization>;
  /** The code in the next message to `destination` not returned yet: from the SMTP server or the log. */
  nextCode(destination: string): Promise<string>;
  close(): Promise<void>;
}

export async function buildSdkWorld(): Promise<SdkWorld> {
  const nats = await NatsServerProcess.create();
  const database = await createTestDatabase({ prefix: "ipaas_sdk" });
  const smtp = await SmtpSink.start();
  const logs = new LogCapture();
  const shared = { DATABASE_URL: database.url, NATS_URL: nats.url, SMTP_URL: smtp.url };
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const api = await buildApiAuth({
    env: { ...shared, SMS_PROVIDER: "dev", API_AUTH_ISSUER: baseUrl, LOG_LEVEL: "info" },
    logs,
  });
  await api.listen({ host: "127.0.0.1", port });
  const dashboard = await buildDashboard(shared);
  const read = new Map<string, number>();

  /** The messages to a phone number, as the development provider wrote them to the log. */
  const developmentDeliveries = (destination: string) =>
    logs.lines
      .map((line) => (JSON.parse(line) as { msg?: string }).msg ?? "")
      .filter((msg) => msg.startsWith("[development delivery") && msg.includes(` to ${destination}: `));

  return {
    baseUrl,
    api,
    dashboard,
    async organization() {
      const registered = await registerOrganization(dashboard, { scopes: ["otp"] });
      const { token } = await enrolAndLogin(dashboard, registered.email);
      return {
        orgId: registered.orgId,
        clientKey: registered.clientKey,
        clientSecret: registered.clientSecret,
        apiKey: registered.apiKey,
        async rotate() {
          const res = await as(dashboard, token).patch("/v1/organizations/credential", { revokeTokens: true });
          if (res.statusCode !== 200) throw new Error(`rotation failed: ${res.body}`);
          return (res.json() as { apiKey: string }).apiKey;
        },
      };
    },
    async nextCode(destination) {
      const seen = read.get(destination) ?? 0;
      const texts = () =>
        destination.includes("@") ? smtp.to(destination).map((m) => m.text) : developmentDeliveries(destination);
      const text = await waitFor(`a code for ${destination}`, () => texts()[seen] ?? null, 15_000, 10);
      read.set(destination, seen + 1);
      const code = /(\d{6,8}) is your/.exec(text)?.[1];
      if (!code) throw new Error("no code in the message");
      return code;
    },
    async close() {
      await api.close();
      await dashboard.close();
      await smtp.close();
      await nats.dispose();
      await database.drop();
    },
  };
}
