// `pnpm demo` on servers, run as a developer runs it: against both services listening on real ports, twice.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "@ipaas/db/testing";
import {
  buildApiAuth,
  buildDashboard,
  freePort,
  LogCapture,
  NatsServerProcess,
  TEST_MASTER_KEY,
  waitFor,
} from "@ipaas/testing";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { partnerTokenRequest, runToEnd } from "./spawned";

const runDemo = (env: Record<string, string>) => runToEnd("src/demo.ts", env);

describe("pnpm demo", () => {
  let nats: NatsServerProcess;
  let database: TestDatabase;
  let dashboard: FastifyInstance;
  let api: FastifyInstance;
  let folder: string;
  const logs = new LogCapture();
  let env: Record<string, string>;

  beforeAll(async () => {
    nats = await NatsServerProcess.create();
    database = await createTestDatabase({ prefix: "ipaas_demo" });
    folder = await mkdtemp(join(tmpdir(), "ipaas-demo-"));
    const shared = { DATABASE_URL: database.url, NATS_URL: nats.url };
    const [dashboardPort, apiPort] = [await freePort(), await freePort()];
    // Banks wait for the platform owner's approval, as by default.
    dashboard = await buildDashboard({ ...shared, BANK_REGISTRATION: "approval" });
    await dashboard.listen({ host: "127.0.0.1", port: dashboardPort });
    api = await buildApiAuth({ env: { ...shared, SMS_PROVIDER: "dev", LOG_LEVEL: "info" }, logs });
    await api.listen({ host: "127.0.0.1", port: apiPort });
    env = {
      NODE_ENV: "development",
      ENV_FILE: "none",
      DATABASE_URL: database.url,
      NATS_URL: nats.url,
      MASTER_KEY: TEST_MASTER_KEY,
      DASHBOARD_AUTH_PORT: String(dashboardPort),
      API_AUTH_PORT: String(apiPort),
      DEMO_STATE_FILE: join(folder, "demo.json"),
    };
  });
  afterAll(async () => {
    await api?.close();
    await dashboard?.close();
    await nats?.dispose();
    await database?.drop();
    await rm(folder, { recursive: true, force: true });
  });

  it("makes every account once, prints working credentials and curl lines, and reuses them on a second run", async () => {
    const first = await runDemo(env);
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    const apiKey = /API key\s+(ipaas_sk_\S+)/.exec(first.stdout)?.[1];
    expect(apiKey).toBeDefined();
    expect(first.stdout.match(/TOTP secret [A-Z2-7]{32}/g)).toHaveLength(3);
    for (const path of ["/v1/auth/token", "/v1/otp/send", "/v1/otp/verify", "/v1/users/me"]) {
      expect(first.stdout).toContain(path);
    }
    const tenants = await dashboard.db.tenant.findMany({ select: { kind: true, status: true } });
    expect(tenants.map((t) => `${t.kind} ${t.status}`).sort()).toEqual([
      "BANK ACTIVE",
      "MAIN ACTIVE",
      "ORGANIZATION ACTIVE",
    ]);

    // The partner token line works as printed: its client key and secret are the API key's.
    const basic = /curl -s -u '([^']+)'/.exec(first.stdout)?.[1] ?? "";
    const token = await partnerTokenRequest(api.listeningOrigin, basic);
    expect(token.status).toBe(200);
    const { access_token } = (await token.json()) as { access_token: string };
    const sent = await fetch(`${api.listeningOrigin}/v1/otp/send`, {
      method: "POST",
      headers: { authorization: `Bearer ${access_token}`, "content-type": "application/json" },
      body: JSON.stringify({ channel: "sms", destination: /"destination":"([^"]+)"/.exec(first.stdout)?.[1] }),
    });
    expect(sent.status).toBe(202);
    await waitFor("the development delivery", () => logs.text.includes("is your Demo Biller sign-in code"));

    // A second run makes nothing new and prints the same key.
    const second = await runDemo(env);
    expect(second.stderr).toBe("");
    expect(second.status).toBe(0);
    expect(/API key\s+(ipaas_sk_\S+)/.exec(second.stdout)?.[1]).toBe(apiKey);
    expect(await dashboard.db.tenant.count()).toBe(tenants.length);
    expect(await dashboard.db.user.count()).toBe(3);
  }, 120_000);

  it("sets the owner's password when an earlier run stopped before it could", async () => {
    // As if a run had been stopped right after making the owner: the one-time link was never used.
    const owner = await dashboard.db.user.findUniqueOrThrow({ where: { email: "owner@demo.example.test" } });
    await dashboard.db.user.update({
      where: { id: owner.id },
      data: { passwordHash: `${owner.passwordHash}-unknown`, passwordChangedAt: null },
    });
    const run = await runDemo(env);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(await dashboard.db.user.count()).toBe(3);
  }, 120_000);

  it("refuses outside development", async () => {
    const run = await runDemo({ ...env, NODE_ENV: "production" });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("development only");
  });
});
