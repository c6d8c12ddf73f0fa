import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import type { BaseConfig as Config } from "@ipaas/service-kit";
import type { FastifyInstance, FastifyPluginAsync } from "fastify";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  buildTestApp,
  freePort,
  LogCapture,
  NatsServerProcess,
  TcpProxy,
  TEST_MASTER_KEY,
  testConfig,
  waitFor,
} from "./infrastructure";

export interface FoundationSuiteOptions<C extends Config> {
  service: string;
  plugin: FastifyPluginAsync<{ config: C }>;
  /** The service's configuration loader (`defineConfig(...).load`). */
  loadConfig: (env: Record<string, string>) => C;
  /** Absolute path of the service's `src/server.ts`. */
  serverEntry: string;
  /** The environment variable naming the service's port. */
  portVariable: "DASHBOARD_AUTH_PORT" | "API_AUTH_PORT";
  issuerVariable: "DASHBOARD_AUTH_ISSUER" | "API_AUTH_ISSUER";
  /** Where the service's OpenAPI document is committed (docs/openapi/<service>.json). */
  openapiFile: string;
}

type Ready = { status: string; checks: Record<string, { ok: boolean; detail: string }> };

const METRICS_TOKEN = "foundation-suite-metrics-token-0123456789";

/**
 * What every service must do before it has routes of its own: serve health, metrics, OpenAPI and
 * JWKS; report each dependency in readiness and recover; keep secrets out of logs; refuse insecure
 * production configuration; stop cleanly on SIGTERM. Both services run this same suite.
 */
export function foundationSuite<C extends Config>(options: FoundationSuiteOptions<C>) {
  const { service, plugin } = options;
  const config = (overrides: Record<string, string>) => testConfig(overrides, options.loadConfig);

  describe(`${service}: foundation`, () => {
    let nats: NatsServerProcess;
    beforeAll(async () => {
      nats = await NatsServerProcess.create();
    });
    afterAll(async () => {
      await nats.dispose();
    });

    async function ready(app: FastifyInstance) {
      const res = await app.inject({ method: "GET", url: "/health/ready" });
      return { status: res.statusCode, body: res.json() as Ready };
    }
    /** Waits until readiness answers `status`, and returns that answer. */
    function readyWith(app: FastifyInstance, status: number, what: string, timeoutMs = 10_000) {
      return waitFor(
        what,
        async () => {
          const r = await ready(app);
          return r.status === status ? r : null;
        },
        timeoutMs,
      );
    }

    it("serves liveness, metrics (to the metrics token only), the OpenAPI document and its docs UI", async () => {
      const app = await buildTestApp(service, plugin, config({ NATS_URL: nats.url, METRICS_TOKEN }));
      try {
        expect((await app.inject({ method: "GET", url: "/health/live" })).json()).toEqual({ status: "ok" });
        expect((await app.inject({ method: "GET", url: "/metrics" })).statusCode).toBe(401);
        const metrics = await app.inject({
          method: "GET",
          url: "/metrics",
          headers: { authorization: `Bearer ${METRICS_TOKEN}` },
        });
        expect(metrics.statusCode).toBe(200);
        expect(metrics.body).toMatch(/http_request_duration_seconds_bucket\{.*service="/);
        // A service that runs the outbox relay counts the rows it parks.
        if (app.hasDecorator("outboxRelay")) expect(metrics.body).toMatch(/^outbox_rows_parked_total\{.*\} 0$/m);
        const doc = (await app.inject({ method: "GET", url: "/openapi.json" })).json();
        expect(doc.openapi).toBe("3.1.0");
        expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/health/ready", "/.well-known/jwks.json"]));
        const docs = await app.inject({ method: "GET", url: "/docs/" });
        expect(docs.statusCode).toBe(200);
        expect(docs.headers["content-type"]).toMatch(/text\/html/);
      } finally {
        await app.close();
      }
    });

    it("has its committed OpenAPI document equal to the one generated from the routes", async () => {
      const app = await buildTestApp(service, plugin, config({ NATS_URL: nats.url }));
      try {
        const generated = `${JSON.stringify(app.swagger(), null, 2)}\n`;
        // `pnpm openapi` rewrites the committed documents.
        if (process.env.UPDATE_OPENAPI === "1") await writeFile(options.openapiFile, generated);
        expect(await readFile(options.openapiFile, "utf8").catch(() => "(missing: run pnpm openapi)")).toBe(generated);
      } finally {
        await app.close();
      }
    });

    it("reports Postgres unreachable in readiness, saying so, and recovers when it is back", async () => {
      const db = new URL(inject("databaseUrl"));
      const proxy = await TcpProxy.create({ host: db.hostname, port: Number(db.port || 5432) });
      db.port = String(proxy.port);
      const app = await buildTestApp(service, plugin, config({ NATS_URL: nats.url, DATABASE_URL: db.toString() }));
      try {
        await readyWith(app, 200, "ready through the proxy");
        await proxy.stop();
        const down = await ready(app);
        expect(down.status).toBe(503);
        expect(down.body.status).toBe("not_ready");
        // A fixed phrase: no driver error, address or port (regression: the error text was shown).
        expect(down.body.checks.postgres).toEqual({ ok: false, detail: "unreachable" });
        expect(JSON.stringify(down.body)).not.toMatch(new RegExp(`ECONNREFUSED|127\\.0\\.0\\.1|${proxy.port}`));
        expect(down.body.checks.nats).toEqual({ ok: true, detail: "connected" });
        await proxy.start();
        const back = await readyWith(app, 200, "Postgres back");
        expect(back.body.checks.postgres).toEqual({ ok: true, detail: "connected" });
      } finally {
        await app.close();
        await proxy.stop();
      }
    });

    it("starts with NATS unreachable, reports it in readiness, and recovers when NATS comes up", async () => {
      const later = await NatsServerProcess.create({ start: false });
      const app = await buildTestApp(service, plugin, config({ NATS_URL: later.url }));
      try {
        const down = await ready(app);
        expect(down.status).toBe(503);
        expect(down.body.checks.postgres?.ok).toBe(true);
        expect(down.body.checks.nats).toEqual({ ok: false, detail: "unreachable" });
        expect(JSON.stringify(down.body)).not.toMatch(new RegExp(`ECONNREFUSED|nats://|${later.port}`));
        await later.start();
        const up = await readyWith(app, 200, "NATS up", 15_000);
        expect(up.body.checks.nats?.ok).toBe(true);
        await later.stop();
        const lost = await readyWith(app, 503, "NATS lost");
        expect(lost.body.checks.nats?.ok).toBe(false);
        await later.start();
        await readyWith(app, 200, "NATS back", 15_000);
      } finally {
        await app.close();
        await later.dispose();
      }
    });

    it("publishes a JWKS over HTTP, each key naming its algorithm, that verifies the service's tokens with jose", async () => {
      const port = await freePort();
      const issuer = `http://127.0.0.1:${port}`;
      const app = await buildTestApp(service, plugin, config({ NATS_URL: nats.url, [options.issuerVariable]: issuer }));
      try {
        await app.listen({ host: "127.0.0.1", port });
        const jwks = (await (await fetch(`${issuer}/.well-known/jwks.json`)).json()) as {
          keys: Array<{ kty: string; crv?: string; alg: string }>;
        };
        const kinds = { EdDSA: "OKP:Ed25519", ES256: "EC:P-256", RS256: "RSA:" } as Record<string, string>;
        expect(jwks.keys.map((k) => k.alg)).toContain("EdDSA");
        for (const key of jwks.keys) expect(`${key.kty}:${key.crv ?? ""}`, key.alg).toBe(kinds[key.alg]);
        const { token } = await app.tokens.sign(
          {},
          { typ: "at+jwt", audience: "test", subject: "sub_1", ttlSeconds: 60 },
        );
        const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`)), {
          issuer,
          audience: "test",
          algorithms: ["EdDSA"],
        });
        expect(payload.sub).toBe("sub_1");
      } finally {
        await app.close();
      }
    });

    it("never writes a password, secret or token sent in a request to its logs", async () => {
      const logs = new LogCapture();
      const app = await buildTestApp(service, plugin, config({ NATS_URL: nats.url, LOG_LEVEL: "trace" }), logs);
      const secrets = ["Pa55word-Sentinel-1", "client-secret-sentinel-2", "bearer-token-sentinel-3", "otp-998877"];
      try {
        await app.inject({
          method: "POST",
          url: "/v1/auth/login",
          payload: { email: "a@b.c", password: secrets[0], client_secret: secrets[1], code: secrets[3] },
        });
        await app.inject({
          method: "POST",
          url: "/v1/auth/token",
          headers: { "content-type": "application/json" },
          payload: `{"client_secret":"${secrets[1]}", broken`,
        });
        await app.inject({ method: "GET", url: "/health/live", headers: { authorization: `Bearer ${secrets[2]}` } });
        await app.inject({
          method: "GET",
          url: `/v1/auth/token?client_secret=${secrets[1]}&password=${secrets[0]}&code=${secrets[3]}`,
          headers: { authorization: `Basic ${Buffer.from(`key:${secrets[1]}`).toString("base64")}` },
        });
        // The requests were logged (so the check below means something)...
        expect(logs.text).toMatch(/incoming request/);
        expect(logs.text).toMatch(/\/v1\/auth\/token\?client_secret=%5BREDACTED%5D/);
        // ...and no secret reached a log line.
        for (const secret of secrets) expect(logs.text).not.toContain(secret);
        expect(logs.text).not.toContain(Buffer.from(`key:${secrets[1]}`).toString("base64"));
      } finally {
        await app.close();
      }
    });

    it("refuses to start in production without a master key, saying why", async () => {
      const child = spawn(process.execPath, ["--import", "tsx", options.serverEntry], {
        env: {
          PATH: process.env.PATH,
          ENV_FILE: "none",
          NODE_ENV: "production",
          SMS_PROVIDER: "http",
          SMTP_URL: "smtp://127.0.0.1:25",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
      expect(code).toBe(1);
      expect(stderr).toContain(`${service} refused to start`);
      expect(stderr).toContain("MASTER_KEY: required in production");
    });

    it("serves on its port and exits cleanly on SIGTERM", async () => {
      const port = await freePort();
      const child = spawn(process.execPath, ["--import", "tsx", options.serverEntry], {
        env: {
          PATH: process.env.PATH,
          ENV_FILE: "none",
          NODE_ENV: "test",
          MASTER_KEY: TEST_MASTER_KEY,
          LOG_LEVEL: "info",
          DATABASE_URL: inject("databaseUrl"),
          NATS_URL: nats.url,
          MIGRATE_ON_START: "true",
          [options.portVariable]: String(port),
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      child.stdout.on("data", (d: Buffer) => {
        stdout += d.toString();
      });
      child.stderr.on("data", (d: Buffer) => {
        stdout += d.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
      try {
        await waitFor(
          "the server to be ready",
          () =>
            fetch(`http://127.0.0.1:${port}/health/ready`).then(
              (r) => r.ok,
              () => false,
            ),
          20_000,
        ).catch((error: Error) => {
          throw new Error(`${error.message}; the server wrote:\n${stdout}`);
        });
        child.kill("SIGTERM");
        expect(await exited).toBe(0);
        expect(stdout).toMatch(/shutting down/);
      } finally {
        if (child.exitCode === null) child.kill("SIGKILL");
      }
    });
  });
}
