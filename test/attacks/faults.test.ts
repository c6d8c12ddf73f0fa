// Faults, with servers of the test's own, each behind a TCP proxy of the test's: Postgres cut off (requests
// that need it are refused with a 503 problem and issue nothing, readiness says so, and the services recover
// without a restart); every Postgres session killed while a relay is marking a row it has published (the
// row is published again, JetStream drops the copy, and it is applied once); NATS stopped, and NATS hanging
// (requests keep working on the database, and the events written meanwhile are delivered once it is back:
// none lost, none applied twice); and a dashboard process killed with SIGKILL between committing an event
// and publishing it (a relay publishes it once NATS is back).
import { spawn } from "node:child_process";
import { join } from "node:path";
import { type Db, openDatabaseAt } from "@ipaas/db";
import { createTestDatabase, type TestDatabase } from "@ipaas/db/testing";
import { credentialsOfApiKey } from "@ipaas/domain";
import {
  buildApiAuth,
  buildDashboard,
  decodeJwt,
  freePort,
  loginAs,
  NatsServerProcess,
  newOrganization,
  organizationAdmin,
  post,
  recordResult,
  requestToken,
  TcpProxy,
  TEST_MASTER_KEY,
  waitFor,
} from "@ipaas/testing";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LeakWatch } from "./leaks";
import { crashPostgres, holdFirstUpdate } from "./postgres-faults";

describe("faults: Postgres cut off, NATS stopped", () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let nats: NatsServerProcess;
  let natsProxy: TcpProxy;
  /** The test's own connection to its database, straight to Postgres (not through the proxy). */
  let direct: { db: Db; close(): Promise<void> };
  let env: Record<string, string>;
  let dashboard: FastifyInstance;
  let api: FastifyInstance;
  const leaks = new LeakWatch();
  const figures = {
    faults: 0,
    refusedDuringCut: 0,
    issuedDuringCut: 0,
    eventsWrittenDuringOutage: 0,
    eventsLost: 0,
    eventsAppliedTwice: 0,
  };

  beforeAll(async () => {
    database = await createTestDatabase({ prefix: "ipaas_faults" });
    const url = new URL(database.url);
    proxy = await TcpProxy.create({ host: url.hostname, port: Number(url.port || 5432) });
    url.hostname = "127.0.0.1";
    url.port = String(proxy.port);
    nats = await NatsServerProcess.create();
    natsProxy = await TcpProxy.create({ host: "127.0.0.1", port: nats.port });
    direct = await openDatabaseAt(database.url);
    // Nothing answered from memory for long: the client cache and the session view live one second.
    env = {
      DATABASE_URL: url.toString(),
      NATS_URL: `nats://127.0.0.1:${natsProxy.port}`,
      CLIENT_CACHE_TTL_SECONDS: "1",
      SESSION_VIEW_TTL_SECONDS: "1",
    };
    dashboard = await buildDashboard({ ...env, LOG_LEVEL: "trace" }, leaks.logs);
    api = await buildApiAuth({ env: { ...env, LOG_LEVEL: "trace" }, logs: leaks.logs });
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    await dashboard?.close();
    await proxy?.stop();
    await natsProxy?.stop();
    await nats?.dispose();
    await direct?.close();
    await database?.drop();
    await recordResult("attacks.faults", figures);
  });

  /** The message ids of the organization's events api-auth applies from now on, one entry per application. */
  const watchApplied = (organizationId: string): string[] => {
    const applied: string[] = [];
    api.organizationSync.observe((synced) => {
      if (synced.organizationId === organizationId) applied.push(synced.messageId);
    });
    return applied;
  };
  const pendingEvents = (organizationId: string) =>
    direct.db.outboxEvent.findMany({
      where: { aggregateId: organizationId, publishedAt: null, type: { startsWith: "organization." } },
      select: { id: true },
      orderBy: { createdAt: "asc" },
    });
  const rotate = async (token: string, app: FastifyInstance = dashboard) => {
    const rotated = await app.inject({
      method: "PATCH",
      url: "/v1/organizations/credential",
      headers: { authorization: `Bearer ${token}` },
      payload: {},
    });
    expect(rotated.statusCode).toBe(200);
    const apiKey = String((rotated.json() as { apiKey?: string }).apiKey);
    leaks.sent(apiKey);
    return apiKey;
  };
  /**
   * Waits until every one of `ids` is published and applied by api-auth, then a moment more for a second
   * application; counts the ones never applied and the ones applied twice.
   */
  const expectAppliedOnce = async (ids: string[], applied: string[]) => {
    await waitFor(
      "every event published",
      async () => (await direct.db.outboxEvent.count({ where: { id: { in: ids }, publishedAt: null } })) === 0,
      30_000,
    );
    await waitFor("api-auth to apply them", () => ids.every((id) => applied.includes(id)), 30_000).catch(
      () => undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const lost = ids.filter((id) => !applied.includes(id));
    const twice = ids.filter((id) => applied.filter((seen) => seen === id).length > 1);
    figures.eventsLost += lost.length;
    figures.eventsAppliedTwice += twice.length;
    expect(lost).toEqual([]);
    expect(twice).toEqual([]);
  };

  const ready = async (app: FastifyInstance) => {
    const res = await app.inject({ method: "GET", url: "/health/ready" });
    return { status: res.statusCode, checks: (res.json() as { checks: Record<string, { ok: boolean }> }).checks };
  };

  it("refuses with 503 and issues nothing while Postgres is cut off, says so in readiness, and recovers", async () => {
    const admin = await organizationAdmin(dashboard);
    const org = await newOrganization(api);
    leaks.sent(org.clientSecret, admin.user.secret, ...admin.user.recoveryCodes, admin.token, admin.refreshToken);
    expect((await requestToken(api, org)).statusCode).toBe(200);
    const userId = admin.org.userId;
    const sessionsBefore = await dashboard.db.session.count({ where: { userId } });

    await proxy.stop();
    figures.faults += 1;
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // past the caches' second
    for (const app of [dashboard, api]) {
      const readiness = await ready(app);
      expect(readiness.status).toBe(503);
      expect(readiness.checks.postgres?.ok).toBe(false);
    }
    const login = await post(dashboard, "/v1/auth/login", { email: admin.user.email, password: admin.user.password });
    const token = await requestToken(api, org);
    for (const res of [login, token]) {
      figures.refusedDuringCut += 1;
      expect(res.statusCode).toBe(503);
      expect(res.body).not.toMatch(/"(token|access_token|setupToken)"/);
      if (/"(token|access_token|setupToken)"/.test(res.body)) figures.issuedDuringCut += 1;
    }
    expect(login.headers["content-type"]).toMatch(/^application\/problem\+json/);

    await proxy.start();
    for (const app of [dashboard, api])
      await waitFor("readiness after the cut", async () => (await ready(app)).status === 200, 20_000);
    const session = await loginAs(dashboard, admin.user);
    expect(decodeJwt(session.token).payload.sub).toBeDefined();
    expect((await requestToken(api, org)).statusCode).toBe(200);
    // The one new session is the login after the recovery: none was made during the cut.
    const sessionsAfter = await dashboard.db.session.count({ where: { userId } });
    expect(sessionsAfter - sessionsBefore).toBe(1);
  }, 60_000);

  it("keeps working while NATS is stopped, reports the link, and delivers every event written meanwhile", async () => {
    const admin = await organizationAdmin(dashboard);
    const orgId = admin.org.orgId;
    const applied = watchApplied(orgId);

    await nats.stop();
    figures.faults += 1;
    for (const app of [dashboard, api]) {
      await waitFor("readiness to report NATS", async () => (await ready(app)).checks.nats?.ok === false, 10_000);
    }
    // Requests keep working: the database answers.
    const session = await loginAs(dashboard, admin.user);
    leaks.sent(admin.user.secret, ...admin.user.recoveryCodes, session.token, session.refreshToken);
    const rotations = 5;
    let apiKey = "";
    for (let i = 0; i < rotations; i++) apiKey = await rotate(session.token);
    // api-auth, which cannot hear of the rotations, reads the organization from the database once its
    // cache entry is a second old: the newest secret works, so staleness is bounded by the cache's TTL.
    const newest = credentialsOfApiKey(apiKey);
    if (!newest) throw new Error("the rotation gave no API key");
    await waitFor(
      "api-auth to take the newest secret",
      async () => (await requestToken(api, newest)).statusCode === 200,
      5_000,
    );
    // Every event about the organization written during the outage is still waiting in the outbox.
    const written = await pendingEvents(orgId);
    figures.eventsWrittenDuringOutage += written.length;
    expect(written.length).toBeGreaterThanOrEqual(rotations);

    await nats.start();
    await expectAppliedOnce(
      written.map((row) => row.id),
      applied,
    );
    expect((await ready(api)).status).toBe(200);
  }, 90_000);

  it("keeps working while NATS hangs, and once it answers again applies every event written meanwhile once", async () => {
    const admin = await organizationAdmin(dashboard);
    leaks.sent(admin.user.secret, ...admin.user.recoveryCodes, admin.token, admin.refreshToken);
    const orgId = admin.org.orgId;
    const applied = watchApplied(orgId);

    // The connections stay open and nothing comes back: publishes wait for acknowledgements that do not come.
    natsProxy.pause();
    figures.faults += 1;
    const rotations = 3;
    let apiKey = "";
    for (let i = 0; i < rotations; i++) apiKey = await rotate(admin.token);
    const newest = credentialsOfApiKey(apiKey);
    if (!newest) throw new Error("the rotation gave no API key");
    await waitFor(
      "api-auth to take the newest secret",
      async () => (await requestToken(api, newest)).statusCode === 200,
      5_000,
    );
    // Past the relay's wait for an acknowledgement (5 s): what it sent is still in the held connection.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const written = await pendingEvents(orgId);
    figures.eventsWrittenDuringOutage += written.length;
    expect(written.length).toBe(rotations);

    // The held bytes arrive, the unanswered publishes are sent again, and JetStream stores each once.
    natsProxy.resume();
    await expectAppliedOnce(
      written.map((row) => row.id),
      applied,
    );
  }, 90_000);

  it("kills every Postgres session while a relay marks a row it published: the row is published again and applied once", async () => {
    const admin = await organizationAdmin(dashboard);
    leaks.sent(admin.user.secret, ...admin.user.recoveryCodes, admin.token, admin.refreshToken);
    const orgId = admin.org.orgId;
    const applied = watchApplied(orgId);
    // The first mark of this organization's events waits in the relay's transaction.
    const held = await holdFirstUpdate(
      direct.db,
      "fault_mark",
      "outbox_events",
      `OLD."publishedAt" IS NULL AND NEW."publishedAt" IS NOT NULL AND OLD."aggregateId" = '${orgId}'`,
    );
    try {
      await rotate(admin.token);
      const [row] = await pendingEvents(orgId);
      if (!row) throw new Error("the rotation wrote no event");
      // NATS acknowledged the row (api-auth applies it) and the relay is inside its transaction, marking it.
      await waitFor("api-auth to apply the event", () => applied.includes(row.id), 15_000);
      await held.reached();

      await crashPostgres(direct.db, proxy, async () => {
        expect(await direct.db.outboxEvent.count({ where: { id: row.id, publishedAt: null } })).toBe(1);
      });
      figures.faults += 1;

      await expectAppliedOnce([row.id], applied);
      for (const app of [dashboard, api])
        await waitFor(
          "readiness after the sessions were killed",
          async () => (await ready(app)).status === 200,
          20_000,
        );
    } finally {
      await held.remove();
    }
  }, 90_000);

  it("publishes an event committed by a dashboard process killed with SIGKILL before it could publish it", async () => {
    const admin = await organizationAdmin(dashboard);
    leaks.sent(admin.user.secret, ...admin.user.recoveryCodes, admin.token, admin.refreshToken);
    const orgId = admin.org.orgId;
    const applied = watchApplied(orgId);

    // With NATS stopped, no relay can publish what the process commits before it dies.
    await nats.stop();
    figures.faults += 1;
    const port = await freePort();
    const child = spawn(process.execPath, ["--import", "tsx", "src/server.ts"], {
      cwd: join(import.meta.dirname, "../../services/dashboard-auth"),
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        ...env,
        NODE_ENV: "test",
        LOG_LEVEL: "info",
        MASTER_KEY: TEST_MASTER_KEY,
        MIGRATE_ON_START: "false",
        DASHBOARD_AUTH_PORT: String(port),
        // The issuer of the tokens the test's dashboard gave out, so this process accepts them.
        DASHBOARD_AUTH_ISSUER: String(decodeJwt(admin.token).payload.iss),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.pipe(leaks.logs, { end: false });
    child.stderr.pipe(leaks.logs, { end: false });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      const origin = `http://127.0.0.1:${port}`;
      await waitFor(
        "the dashboard process to listen",
        () =>
          fetch(`${origin}/health/live`).then(
            (res) => res.ok,
            () => false,
          ),
        30_000,
        100,
      );
      const rotated = await fetch(`${origin}/v1/organizations/credential`, {
        method: "PATCH",
        headers: { authorization: `Bearer ${admin.token}`, "content-type": "application/json" },
        body: "{}",
      });
      expect(rotated.status).toBe(200);
      const apiKey = String(((await rotated.json()) as { apiKey?: string }).apiKey);
      leaks.sent(apiKey);
      const written = await pendingEvents(orgId);
      expect(written.length).toBe(1);

      child.kill("SIGKILL");
      await exited;
      await nats.start();
      await expectAppliedOnce(
        written.map((row) => row.id),
        applied,
      );
      const newest = credentialsOfApiKey(apiKey);
      if (!newest) throw new Error("the rotation gave no API key");
      expect((await requestToken(api, newest)).statusCode).toBe(200);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
      await nats.start();
    }
  }, 90_000);

  it("logged the faults without a secret: no password, token, code, key or address", async () => {
    const { lines, found } = await leaks.recorded("faults");
    expect(lines).toBeGreaterThan(50);
    expect(found).toEqual([]);
  });
});
