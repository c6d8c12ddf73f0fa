// The limits on sending codes, over HTTP and through delivery: the doubling wait and the hourly cap per
// destination (time moves by editing the stored send times), and what reaches the SMS gateway and the
// SMTP server when a send is refused, SMS pumping across one number range included.
import { buildDeliveryWorld, type DeliveryWorld, newOrganization, tokenFor, waitFor, withBearer } from "@ipaas/testing";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const HOUR_MS = 3_600_000;

describe("limits on sending codes", () => {
  let world: DeliveryWorld;
  let app: FastifyInstance;
  beforeAll(async () => {
    world = await buildDeliveryWorld();
    app = world.app;
  });
  afterAll(() => world.close());

  let counter = 0;
  const unique = () => {
    counter += 1;
    return `${Date.now() % 1_000_000}${counter}`.padStart(8, "0").slice(-8);
  };
  const newEmail = () => `limits.${unique()}@example.test`;
  /** An Indian mobile number, E.164. */
  const newPhone = () => `+9198${unique()}`;

  async function partner(settings?: object) {
    const org = await newOrganization(app, { scopes: ["otp"] });
    if (settings) await app.db.tenant.update({ where: { id: org.id }, data: { otpSettings: settings } });
    const token = await tokenFor(app, org, { scope: "otp" });
    const call = (body: object) => withBearer(app, token, "POST", "/v1/otp/send", body);
    return { org, token, call };
  }

  /** As if `seconds` had passed: every stored send of the organization moves that far into the past. */
  async function rewind(organizationId: string, seconds: number) {
    const rows = await app.db.otpChallenge.findMany({
      where: { tenantId: organizationId },
      select: { id: true, createdAt: true },
    });
    for (const row of rows) {
      await app.db.otpChallenge.update({
        where: { id: row.id },
        data: { createdAt: new Date(row.createdAt.getTime() - seconds * 1000) },
      });
    }
  }

  const accepted = (res: LightMyRequestResponse) => {
    expect(res.statusCode, res.body).toBe(202);
    return res.json() as { requestId: string; resendAfter: number };
  };

  /** The seconds a refused send is told to wait. */
  const refusedFor = (res: LightMyRequestResponse) => {
    expect(res.statusCode, res.body).toBe(429);
    expect(res.json().code).toBe("RATE_LIMITED");
    return Number(res.headers["retry-after"]);
  };

  /** What the organization's sends left behind: challenges, outbox rows and counters. */
  const written = async (organizationId: string) => ({
    challenges: await app.db.otpChallenge.count({ where: { tenantId: organizationId } }),
    outbox: await app.db.outboxEvent.count({ where: { aggregateId: organizationId } }),
    counters: await app.db.sendCounter.findMany({
      where: { key: { contains: organizationId } },
      select: { key: true, count: true },
      orderBy: { key: "asc" },
    }),
  });

  it("doubles the wait between codes to one destination within the hour: 30 s, 60 s, 120 s, 240 s", async () => {
    const p = await partner();
    const destination = newEmail();
    const send = () => p.call({ channel: "email", destination });

    expect(accepted(await send()).resendAfter).toBe(30);
    const atOnce = refusedFor(await send());
    expect(atOnce).toBeGreaterThanOrEqual(29);
    expect(atOnce).toBeLessThanOrEqual(30);
    // Each wait, 20 s short of its end and then just past it: refused for the 20 s left, then accepted
    // with the next, doubled wait.
    for (const [wait, next] of [
      [30, 60],
      [60, 120],
      [120, 240],
    ] as const) {
      await rewind(p.org.id, wait - 20);
      const early = refusedFor(await send());
      expect(early, `${wait} s wait`).toBeGreaterThanOrEqual(19);
      expect(early, `${wait} s wait`).toBeLessThanOrEqual(20);
      await rewind(p.org.id, 21);
      expect(accepted(await send()).resendAfter, `after the ${wait} s wait`).toBe(next);
    }
    await rewind(p.org.id, 220);
    const early = refusedFor(await send());
    expect(early).toBeGreaterThanOrEqual(19);
    expect(early).toBeLessThanOrEqual(20);
    await rewind(p.org.id, 21);
    // The fifth code of the hour: the next waits for the first (31 + 61 + 121 + 241 s ago) to leave it.
    const fifth = accepted(await send());
    expect(fifth.resendAfter).toBeGreaterThanOrEqual(3600 - 454 - 1);
    expect(fifth.resendAfter).toBeLessThanOrEqual(3600 - 454);
    // Only the codes within the hour count: an hour on, the wait is 30 s again.
    await rewind(p.org.id, 3600);
    expect(accepted(await send()).resendAfter).toBe(30);
    expect(await app.db.otpChallenge.count({ where: { tenantId: p.org.id } })).toBe(6);
  });

  it("refuses a sixth code to one destination within the hour until the oldest leaves it, writing nothing", async () => {
    const p = await partner();
    const destination = newEmail();
    const send = () => p.call({ channel: "email", destination });
    // Five codes, sent 50, 40, 30, 20 and 10 minutes ago: each wait long over, the cap reached.
    const resendAfter: number[] = [];
    for (const minutesAgo of [50, 40, 30, 20, 10]) {
      const sent = accepted(await send());
      resendAfter.push(sent.resendAfter);
      await app.db.otpChallenge.update({
        where: { id: sent.requestId },
        data: { createdAt: new Date(Date.now() - minutesAgo * 60_000) },
      });
    }
    // The fifth is told to wait until the oldest leaves the hour, 10 minutes on.
    expect(resendAfter.slice(0, 4)).toEqual([30, 60, 120, 240]);
    expect(resendAfter[4]).toBeGreaterThanOrEqual(599);
    expect(resendAfter[4]).toBeLessThanOrEqual(600);

    const before = await written(p.org.id);
    expect(before.challenges).toBe(5);
    const sixth = await send();
    const retryAfter = refusedFor(sixth);
    expect(retryAfter).toBeGreaterThanOrEqual(599);
    expect(retryAfter).toBeLessThanOrEqual(600);
    expect(sixth.json().detail).toContain("too many codes to this destination this hour");
    expect(await written(p.org.id)).toEqual(before);
    // Another destination of the organization is not held by it.
    accepted(await p.call({ channel: "email", destination: newEmail() }));

    // Ten minutes on, the oldest has left the hour: the sixth goes.
    await rewind(p.org.id, 600);
    accepted(await send());
  });

  it("sends nothing through the gateway or by e-mail for a send refused for its country or the daily budget", async () => {
    const p = await partner({ dailyBudget: 2 });
    const [phone, email] = [newPhone(), newEmail()];
    accepted(await p.call({ channel: "sms", destination: phone }));
    accepted(await p.call({ channel: "email", destination: email }));
    // The accepted codes arrive: delivery is running.
    await world.nextCode(phone);
    await world.nextCode(email);

    const abroad = await p.call({ channel: "sms", destination: "+1 415 555 2671" });
    expect(abroad.statusCode).toBe(403);
    expect(abroad.json().code).toBe("COUNTRY_NOT_ALLOWED");
    const refused = { phone: newPhone(), email: newEmail() };
    const overBudget = [
      await p.call({ channel: "sms", destination: refused.phone }),
      await p.call({ channel: "email", destination: refused.email }),
    ];
    for (const res of overBudget) {
      refusedFor(res);
      expect(res.json().detail).toContain("daily budget");
    }
    expect((await written(p.org.id)).challenges).toBe(2);

    // Codes asked for after the refusals, by another organization, arrive; the refused ones never do.
    const later = await partner();
    const [laterPhone, laterEmail] = [newPhone(), newEmail()];
    accepted(await later.call({ channel: "sms", destination: laterPhone }));
    accepted(await later.call({ channel: "email", destination: laterEmail }));
    await world.nextCode(laterPhone);
    await world.nextCode(laterEmail);
    const to = (number: string) => world.gateway.received.filter((m) => m.to.replace(/^whatsapp:/, "") === number);
    expect(to("+14155552671")).toEqual([]);
    expect(to(refused.phone)).toEqual([]);
    expect(world.smtp.to(refused.email)).toEqual([]);
    expect(to(phone)).toHaveLength(1);
    expect(world.smtp.to(email)).toHaveLength(1);
  });

  it("holds 1,000 sequential numbers of one range, each asked for from another address, to the range's 20 codes an hour", async () => {
    // The range counter's window is the clock hour: a run across its turn would count in two windows.
    const untilNextHour = HOUR_MS - (Date.now() % HOUR_MS);
    if (untilNextHour < 60_000) await new Promise((resolve) => setTimeout(resolve, untilNextHour + 1_000));
    const p = await partner();
    const range = `+9197${unique().slice(-4)}`;
    const statuses: number[] = [];
    const details = new Set<string>();
    for (let i = 0; i < 1_000; i++) {
      // A different client address each time, as from a pool of machines.
      const address = `198.18.${i >> 8}.${i & 255}`;
      const res = await app.inject({
        method: "POST",
        url: "/v1/otp/send",
        remoteAddress: address,
        headers: { authorization: `Bearer ${p.token}` },
        payload: { channel: "sms", destination: `${range}${String(i).padStart(4, "0")}`, endUserIp: address },
      });
      statuses.push(res.statusCode);
      if (res.statusCode === 429) details.add(res.json().detail.replace(/\d+ s$/, "N s"));
    }
    expect(statuses.filter((s) => s === 202)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(980);
    expect([...details]).toEqual(["too many codes to numbers of this range this hour; try again in N s"]);

    // Wait for the 20 accepted codes, then for a later code from another organization: nothing more comes.
    const toRange = () => world.gateway.received.filter((m) => m.to.startsWith(range));
    await waitFor("the range's 20 codes at the gateway", () => toRange().length >= 20 || null, 30_000, 20);
    const later = await partner();
    const laterPhone = newPhone();
    accepted(await later.call({ channel: "sms", destination: laterPhone }));
    await world.nextCode(laterPhone);
    expect(toRange().length).toBeLessThanOrEqual(20);
    expect(new Set(toRange().map((m) => m.to)).size).toBe(20);
    expect(await app.db.otpChallenge.count({ where: { tenantId: p.org.id } })).toBe(20);
  }, 180_000);
});
