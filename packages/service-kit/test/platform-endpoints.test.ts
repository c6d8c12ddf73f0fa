import { LogCapture, testConfig } from "@ipaas/testing";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { platformPlugin } from "../src/plugins/platform";
import { serverOptions } from "../src/server-options";

const TOKEN = "metrics-token-0123456789-abcdefghij";
const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

/** The platform plugins alone (health, metrics, problems), as every service has them. */
async function platformApp(env: Record<string, string>, logs?: LogCapture): Promise<FastifyInstance> {
  // Quiet unless the test captures the log.
  const config = testConfig({ ...(logs ? { LOG_LEVEL: "info" } : {}), ...env });
  const app = Fastify(serverOptions(config, "platform-test", logs));
  apps.push(app);
  await app.register(platformPlugin, {
    config,
    service: "platform-test",
    openapi: { title: "t", description: "t", version: "1", serverUrl: "http://localhost" },
  });
  return app;
}

describe("GET /metrics", () => {
  // Regression: /metrics answered anyone.
  it("is not served at all when METRICS_TOKEN is unset", async () => {
    const app = await platformApp({});
    await app.ready();
    const res = await app.inject({ method: "GET", url: "/metrics", headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: "NOT_FOUND" });
  });

  it("answers 401 without the token, with a wrong one or another scheme, and never shows a metric", async () => {
    const app = await platformApp({ METRICS_TOKEN: TOKEN });
    await app.ready();
    const wrong = [
      undefined,
      `Bearer ${TOKEN.slice(0, -1)}x`,
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, 8)}`,
      "Bearer",
      `Basic ${Buffer.from(`metrics:${TOKEN}`).toString("base64")}`,
      TOKEN,
    ];
    for (const authorization of wrong) {
      const res = await app.inject({
        method: "GET",
        url: "/metrics",
        headers: authorization === undefined ? {} : { authorization },
      });
      expect(res.statusCode, String(authorization)).toBe(401);
      expect(res.headers["www-authenticate"]).toBe('Bearer realm="metrics"');
      expect(res.json()).toMatchObject({ code: "UNAUTHENTICATED", status: 401 });
      expect(res.body).not.toMatch(/http_request_duration_seconds|process_cpu/);
    }
  });

  it("serves Prometheus text, counters registered by other packages included, for the right token", async () => {
    const app = await platformApp({ METRICS_TOKEN: TOKEN });
    const parked = app.metrics.counter("things_parked_total", "Things parked");
    parked.inc();
    await app.ready();
    await app.inject({ method: "GET", url: "/health/live" });
    for (const authorization of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`]) {
      const res = await app.inject({ method: "GET", url: "/metrics", headers: { authorization } });
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(res.body).toMatch(
        /^http_request_duration_seconds_bucket\{(?=.*route="\/health\/live")(?=.*service="platform-test")/m,
      );
      expect(res.body).toMatch(/^things_parked_total\{service="platform-test"\} 1$/m);
    }
  });
});

describe("GET /health/ready", () => {
  // Regression: a failed check's detail carried the error text (the database's, with addresses).
  it("shows a fixed phrase for a failed check and logs the error instead", async () => {
    const logs = new LogCapture();
    const app = await platformApp({}, logs);
    app.readiness.add("ledger", () => {
      throw new Error("connect ECONNREFUSED 10.1.2.3:5432 for user ledger_admin");
    });
    app.readiness.add("cache", () => ({ ok: true, detail: "connected" }));
    await app.ready();
    const res = await app.inject({ method: "GET", url: "/health/ready" });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      status: "not_ready",
      checks: { ledger: { ok: false, detail: "unreachable" }, cache: { ok: true, detail: "connected" } },
    });
    expect(res.body).not.toMatch(/ECONNREFUSED|10\.1\.2\.3|ledger_admin/);
    expect(logs.text).toMatch(/readiness check failed/);
    expect(logs.text).toContain("connect ECONNREFUSED 10.1.2.3:5432 for user ledger_admin");
  });
});
