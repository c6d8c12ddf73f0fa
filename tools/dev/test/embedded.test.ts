// The embedded development mode end to end, as a developer meets it: no server addresses at all, `pnpm demo`
// running both services in one process on the embedded database and event bus, the printed flows working
// over HTTP (a one-time code travels through the outbox, the relay and the delivery consumer), the data
// kept across a restart, one process at a time on a folder, and the refusals.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@ipaas/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { partnerTokenRequest, runToEnd, Spawned } from "./spawned";

const READY = /embedded development mode: .*ready in [0-9.]+ s/;

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

describe("the embedded development mode", () => {
  let folder: string;
  let env: Record<string, string>;
  let dashboard: string;
  let api: string;
  const running: Spawned[] = [];
  const start = (script: string) => {
    const spawned = new Spawned(script, env);
    running.push(spawned);
    return spawned;
  };

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), "ipaas-embedded-mode-"));
    const [dashboardPort, apiPort] = [await freePort(), await freePort()];
    dashboard = `http://127.0.0.1:${dashboardPort}`;
    api = `http://127.0.0.1:${apiPort}`;
    // Nothing else: no DATABASE_URL, no NATS_URL, no .env.
    env = {
      NODE_ENV: "development",
      ENV_FILE: "none",
      EMBEDDED_DATA_DIR: join(folder, "postgres"),
      DEMO_STATE_FILE: join(folder, "demo.json"),
      DASHBOARD_AUTH_PORT: String(dashboardPort),
      API_AUTH_PORT: String(apiPort),
    };
  });
  afterAll(async () => {
    await Promise.all(running.map((spawned) => spawned.stop()));
    await rm(folder, { recursive: true, force: true });
  });

  let basic: string;
  let userToken: string;

  it("runs pnpm demo's flows: partner token, a one-time code through the events, its verification, the profile", async () => {
    const demo = start("src/demo.ts");
    await demo.waitFor(/Ctrl-C stops them/, 90_000);
    expect(demo.stdout).toMatch(READY);
    expect(demo.stderr).toBe("");
    expect(demo.stdout.match(/TOTP secret [A-Z2-7]{32}/g)).toHaveLength(3);
    // The docs UI at each service's base URL, which follows its port.
    const local = (origin: string) => origin.replace("127.0.0.1", "localhost");
    expect(demo.stdout).toContain(`Dashboard: ${local(dashboard)}/docs    api-auth: ${local(api)}/docs`);

    for (const origin of [dashboard, api]) {
      const ready = await fetch(`${origin}/health/ready`);
      expect(ready.status).toBe(200);
      expect((await json(ready)).checks).toEqual({
        postgres: { ok: true, detail: "connected" },
        events: { ok: true, detail: "connected" },
      });
    }

    basic = /curl -s -u '([^']+)'/.exec(demo.stdout)?.[1] ?? "";
    const token = await partnerTokenRequest(api, basic);
    expect(token.status).toBe(200);
    const partner = String((await json(token)).access_token);
    const headers = { authorization: `Bearer ${partner}`, "content-type": "application/json" };
    const phone = /"destination":"([^"]+)"/.exec(demo.stdout)?.[1] ?? "";
    const sent = await fetch(`${api}/v1/otp/send`, {
      method: "POST",
      headers,
      body: JSON.stringify({ channel: "sms", destination: phone }),
    });
    expect(sent.status).toBe(202);
    const { requestId } = await json(sent);
    // The development SMS provider writes it to the log once the delivery consumer has taken the event.
    const code = (await demo.waitFor(/: (\d{6}) is your Demo Biller sign-in code/, 20_000))[1];
    const verified = await fetch(`${api}/v1/otp/verify`, {
      method: "POST",
      headers,
      body: JSON.stringify({ requestId, code }),
    });
    expect(verified.status).toBe(200);
    userToken = String((await json(verified)).token);
    const me = await fetch(`${api}/v1/users/me`, { headers: { authorization: `Bearer ${userToken}` } });
    expect(me.status).toBe(200);
    expect(await json(me)).toMatchObject({ phone });

    // One process at a time on the folder: a second one says so in a line and exits.
    const second = await runToEnd("src/serve.ts", env);
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(/^pnpm dev refused to start: the embedded database in .* is open in process \d+/);

    expect(await demo.stop()).toBe(0);
  }, 150_000);

  it("keeps accounts, keys and end users across a restart", async () => {
    const serve = start("src/serve.ts");
    await serve.waitFor(READY);
    const token = await partnerTokenRequest(api, basic);
    expect(token.status).toBe(200);
    // Signed before the restart, by a key that was kept.
    const me = await fetch(`${api}/v1/users/me`, { headers: { authorization: `Bearer ${userToken}` } });
    expect(me.status).toBe(200);
    // The demo reuses everything, and refuses to open the database a running process holds.
    const demo = await runToEnd("src/demo.ts", env);
    expect(demo.status).toBe(1);
    expect(demo.stderr).toContain("stop pnpm dev, then run pnpm demo again");
    expect(await serve.stop()).toBe(0);
  }, 90_000);

  it("refuses with only one server address, naming the missing one, and in production", async () => {
    const onlyDatabase = await runToEnd("src/dev.ts", { ...env, DATABASE_URL: "postgres://127.0.0.1:1/x" });
    expect(onlyDatabase.status).toBe(1);
    expect(onlyDatabase.stderr).toBe(
      "pnpm dev refused to start: NATS_URL: required when DATABASE_URL is set (set both to run on servers, " +
        "or neither for the embedded development mode)\n",
    );
    const onlyNats = await runToEnd("src/dev.ts", { ...env, NATS_URL: "nats://127.0.0.1:1" });
    expect(onlyNats.stderr).toMatch(/^pnpm dev refused to start: DATABASE_URL: required when NATS_URL is set/);

    const production = await runToEnd("src/serve.ts", {
      ...env,
      NODE_ENV: "production",
      MASTER_KEY: Buffer.alloc(32, 3).toString("base64"),
    });
    expect(production.status).toBe(1);
    expect(production.stderr).toContain("DATABASE_URL and NATS_URL: required in production");
  }, 60_000);
});
