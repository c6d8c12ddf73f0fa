// Sessions held in memory by every dashboard-auth instance, kept true by the `access.changed` events the
// database writes with every change that authentication checks: the instance making a change applies it
// at once, the others as soon as the event arrives; while an instance cannot trust its view (NATS down) it
// reads the database. The logout propagation is written to test-results/session-propagation.json for the
// benchmark report; only a generous bound is asserted.
import { createTestDatabase, type TestDatabase } from "@ipaas/db/testing";
import {
  as,
  buildDashboard,
  grant,
  latencySummary,
  loginAs,
  memberOf,
  NatsServerProcess,
  organizationAdmin,
  recordResult,
  waitFor,
} from "@ipaas/testing";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const LOGOUTS = 20;
/** Far above what propagation takes while NATS is up; only a broken view should reach it. */
const BOUND_MS = 5_000;

let nats: NatsServerProcess;
let database: TestDatabase;
let a: FastifyInstance;
let b: FastifyInstance;
const live = () => a.sessionView.live && b.sessionView.live;

beforeAll(async () => {
  // A database and NATS of this file's own: the relays of other files' apps must not carry its events away,
  // and stopping NATS here must not disturb them.
  nats = await NatsServerProcess.create();
  database = await createTestDatabase({ prefix: "ipaas_sessions" });
  const env = { NATS_URL: nats.url, DATABASE_URL: database.url };
  a = await buildDashboard(env);
  b = await buildDashboard(env);
  await waitFor("both session views live", live, 15_000, 20);
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await nats?.dispose();
  await database?.drop();
});

const verify = async (app: FastifyInstance, token: string) =>
  (await as(app, token).post("/v1/auth/verify-token")).statusCode;

/** Asks `app` until it refuses `token`; returns how long that took from `since`. */
async function untilRefused(app: FastifyInstance, token: string, since: number): Promise<number> {
  for (;;) {
    const status = await verify(app, token);
    if (status === 401) return performance.now() - since;
    if (status !== 200) throw new Error(`unexpected answer ${status}`);
    if (performance.now() - since > BOUND_MS) throw new Error(`still accepted after ${BOUND_MS} ms`);
    // An answer from memory does no I/O: without a turn of the event loop the event could never be read.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe("sessions across instances", () => {
  it(`applies a logout at once where it was made and measures its way to the other instance (${LOGOUTS} logouts)`, async () => {
    let admin = await organizationAdmin(a);
    const samples: number[] = [];
    for (let i = 0; i < LOGOUTS; i++) {
      // A user has a handful of second factors for logins: a new one every few logouts.
      if (i > 0 && i % 5 === 0) admin = await organizationAdmin(a);
      const { token } = await loginAs(a, admin.user);
      // Both instances hold the session, so what is measured is the change reaching memory, not a miss.
      expect(await verify(a, token)).toBe(200);
      expect(await verify(b, token)).toBe(200);
      expect(b.sessionView.cached(sessionOf(token))).not.toBeNull();

      expect((await as(a, token).post("/v1/auth/logout")).statusCode).toBe(200);
      const loggedOutAt = performance.now();
      expect(await verify(a, token)).toBe(401);
      samples.push(await untilRefused(b, token, loggedOutAt));
    }
    expect(live()).toBe(true);

    const summary = { logouts: LOGOUTS, ...latencySummary(samples) };
    await recordResult("session-propagation", summary);
    process.stdout.write(`session propagation (ms, logout → other instance refusing): ${JSON.stringify(summary)}\n`);
  });

  it("stops a disabled user's token at both instances", async () => {
    const admin = await organizationAdmin(a);
    const member = await memberOf(a, admin.token, { permissions: [grant("users", "r")] });
    expect(await verify(b, member.token)).toBe(200);
    const res = await as(a, admin.token).put(`/v1/users/${member.userId}`, { status: "Disabled" });
    expect(res.statusCode).toBe(200);
    const disabledAt = performance.now();
    expect(await verify(a, member.token)).toBe(401);
    await untilRefused(b, member.token, disabledAt);
  });

  it("hears of changes made outside the service too: a statement by hand, a suspended tenant", async () => {
    const admin = await organizationAdmin(a);
    const member = await memberOf(a, admin.token, { permissions: [grant("users", "r")] });
    for (const app of [a, b]) {
      expect(await verify(app, admin.token)).toBe(200);
      expect(await verify(app, member.token)).toBe(200);
    }
    await a.db
      .$executeRaw`UPDATE users SET "tokensNotBefore" = now() + interval '1 second' WHERE id = ${member.userId}`;
    let since = performance.now();
    for (const app of [a, b]) await untilRefused(app, member.token, since);
    expect(await verify(b, admin.token)).toBe(200);

    await a.db.$executeRaw`UPDATE tenants SET status = 'SUSPENDED' WHERE id = ${admin.org.orgId}`;
    since = performance.now();
    for (const app of [a, b]) await untilRefused(app, admin.token, since);
  });

  it("reads the database while NATS is down, and trusts memory again once it is back", async () => {
    const admin = await organizationAdmin(a);
    const { token } = await loginAs(a, admin.user);
    expect(await verify(b, token)).toBe(200);

    await nats.stop();
    await waitFor("both views no longer trusted", () => !a.sessionView.live && !b.sessionView.live, 10_000, 20);
    // The event of this logout cannot travel; b refuses at once all the same, from the database.
    expect((await as(a, token).post("/v1/auth/logout")).statusCode).toBe(200);
    expect(await verify(b, token)).toBe(401);
    expect(await verify(b, admin.token)).toBe(200);

    await nats.start();
    await waitFor("both views live again", live, 15_000, 20);
    expect(await verify(b, token)).toBe(401);
    expect(await verify(b, admin.token)).toBe(200);
    expect(b.sessionView.cached(sessionOf(admin.token))).not.toBeNull();
  });
});

function sessionOf(token: string): string {
  const payload = JSON.parse(Buffer.from(token.split(".")[1] as string, "base64url").toString()) as { sid: string };
  return payload.sid;
}
