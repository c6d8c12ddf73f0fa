// Revocations held in memory by every api-auth instance, kept true by `token.revoked` events: the instance
// that revokes applies it at once, the others as soon as the event arrives; while an instance cannot trust
// its set (NATS down, not rebuilt yet) it asks the database. The propagation is written to
// test-results/revocation-propagation.json for the benchmark report; only a generous bound is asserted.
import {
  buildSyncWorld,
  decodeJwt,
  introspect,
  latencySummary,
  newOrganization,
  recordResult,
  revoke,
  type SyncWorld,
  tokenFor,
  waitFor,
} from "@ipaas/testing";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const REVOCATIONS = 30;
/** Far above what propagation takes while NATS is up; only a broken sync should reach it. */
const BOUND_MS = 5_000;

let world: SyncWorld;
let a: FastifyInstance;
let b: FastifyInstance;
beforeAll(async () => {
  world = await buildSyncWorld();
  [a, b] = world.instances.map((i) => i.app) as [FastifyInstance, FastifyInstance];
  await waitFor("both revocation sets live", () => a.revocations.live && b.revocations.live, 15_000, 20);
});
afterAll(async () => {
  await world?.close();
});

const active = async (app: FastifyInstance, org: Awaited<ReturnType<typeof newOrganization>>, token: string) =>
  (await introspect(app, org, token)).json().active as boolean;

describe("revocations across instances", () => {
  it(`applies a revocation at once where it was made and measures its way to the other instance (${REVOCATIONS} tokens)`, async () => {
    const org = await newOrganization(a);
    const samples: number[] = [];
    for (let i = 0; i < REVOCATIONS; i++) {
      const token = await tokenFor(a, org);
      expect(await active(b, org, token)).toBe(true);

      expect((await revoke(a, org, token)).statusCode).toBe(200);
      const revokedAt = performance.now();
      expect(await active(a, org, token)).toBe(false);
      for (;;) {
        if (!(await active(b, org, token))) break;
        if (performance.now() - revokedAt > BOUND_MS) throw new Error(`still active at b after ${BOUND_MS} ms`);
        // An answer from memory may do no I/O: without a turn of the event loop the event could never be read.
        await new Promise((resolve) => setImmediate(resolve));
      }
      samples.push(performance.now() - revokedAt);
    }
    // Every answer above came from memory: the sets stayed live throughout.
    expect(a.revocations.live && b.revocations.live).toBe(true);

    const summary = { revocations: REVOCATIONS, ...latencySummary(samples) };
    await recordResult("revocation-propagation", summary);
    process.stdout.write(
      `revocation propagation (ms, response → other instance refusing): ${JSON.stringify(summary)}\n`,
    );
  });

  it("answers from the database while NATS is down, and rebuilds its set when NATS is back", async () => {
    const org = await newOrganization(a);
    const before = await tokenFor(a, org);
    const during = await tokenFor(a, org);
    const unannounced = await tokenFor(a, org);

    await world.nats.stop();
    await waitFor("both sets no longer trusted", () => !a.revocations.live && !b.revocations.live, 10_000, 20);
    // The revocation commits; its event waits in the outbox. b learns of it from the database.
    expect((await revoke(a, org, during)).statusCode).toBe(200);
    expect(await active(b, org, during)).toBe(false);
    expect(await active(b, org, before)).toBe(true);
    // A revocation no event will ever announce: only rebuilding from the database can bring it into a set.
    const { jti, exp } = decodeJwt(unannounced).payload;
    await b.db.revokedToken.create({
      data: { jti: String(jti), subject: org.id, expiresAt: new Date(Number(exp) * 1000) },
    });

    await world.nats.start();
    await waitFor("both sets live again", () => a.revocations.live && b.revocations.live, 15_000, 20);
    for (const app of [a, b]) {
      expect(app.revocations.set.has(String(jti))).toBe(true);
      expect(await active(app, org, unannounced)).toBe(false);
      expect(await active(app, org, during)).toBe(false);
      expect(await active(app, org, before)).toBe(true);
    }
  });
});
