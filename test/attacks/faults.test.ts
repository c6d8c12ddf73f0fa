// Faults, with servers of the test's own: Postgres cut off behind a TCP proxy (requests that need it are
// refused with a 503 problem and issue nothing, readiness says so, and the services recover without a
// restart), and NATS stopped (requests keep working on the database, readiness reports the link, and the
// events written meanwhile are delivered once it is back: none lost).
import { createTestDatabase, type TestDatabase } from "@ipaas/db/testing";
import { credentialsOfApiKey } from "@ipaas/domain";
import {
  buildApiAuth,
  buildDashboard,
  decodeJwt,
  loginAs,
  NatsServerProcess,
  newOrganization,
  organizationAdmin,
  post,
  recordResult,
  requestToken,
  TcpProxy,
  waitFor,
} from "@ipaas/testing";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LeakWatch } from "./leaks";

describe("faults: Postgres cut off, NATS stopped", () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let nats: NatsServerProcess;
  let dashboard: FastifyInstance;
  let api: FastifyInstance;
  const leaks = new LeakWatch();
  const figures = { faults: 0, refusedDuringCut: 0, issuedDuringCut: 0, eventsWrittenDuringOutage: 0, eventsLost: 0 };

  beforeAll(async () => {
    database = await createTestDatabase({ prefix: "ipaas_faults" });
    const url = new URL(database.url);
    proxy = await TcpProxy.create({ host: url.hostname, port: Number(url.port || 5432) });
    url.hostname = "127.0.0.1";
    url.port = String(proxy.port);
    nats = await NatsServerProcess.create();
    // Nothing answered from memory for long: the client cache and the session view live one second.
    const env = {
      DATABASE_URL: url.toString(),
      NATS_URL: nats.url,
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
    await nats?.dispose();
    await database?.drop();
    await recordResult("attacks.faults", figures);
  });

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
    const applied: string[] = [];
    api.organizationSync.observe((synced) => {
      if (synced.organizationId === orgId) applied.push(synced.messageId);
    });

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
    for (let i = 0; i < rotations; i++) {
      const rotated = await dashboard.inject({
        method: "PATCH",
        url: "/v1/organizations/credential",
        headers: { authorization: `Bearer ${session.token}` },
        payload: {},
      });
      expect(rotated.statusCode).toBe(200);
      apiKey = String((rotated.json() as { apiKey?: string }).apiKey);
      leaks.sent(apiKey);
    }
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
    const written = await dashboard.db.outboxEvent.findMany({
      where: { aggregateId: orgId, publishedAt: null, type: { startsWith: "organization." } },
      select: { id: true },
    });
    figures.eventsWrittenDuringOutage = written.length;
    expect(written.length).toBeGreaterThanOrEqual(rotations);

    await nats.start();
    const ids = written.map((row) => row.id);
    await waitFor(
      "every event written during the outage published",
      async () => (await dashboard.db.outboxEvent.count({ where: { id: { in: ids }, publishedAt: null } })) === 0,
      30_000,
    );
    await waitFor("api-auth to apply them", () => ids.every((id) => applied.includes(id)), 30_000).catch(
      () => undefined,
    );
    const lost = ids.filter((id) => !applied.includes(id));
    figures.eventsLost = lost.length;
    expect(lost).toEqual([]);
    expect((await ready(api)).status).toBe(200);
  }, 90_000);

  it("logged the faults without a secret: no password, token, code, key or address", async () => {
    const { lines, found } = await leaks.recorded("faults");
    expect(lines).toBeGreaterThan(50);
    expect(found).toEqual([]);
  });
});
