// Password guessing is slowed by attempt gates that count before the password is checked (review
// findings 2, 8, 10 and the forgot-password throttle of 13). Each test names the defect it pins.

import { buildDashboard, email, enrolledUser, PASSWORD, registerOrganization, SmtpSink, totp } from "@ipaas/testing";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAILS_PER_ACCOUNT, PASSWORD_PER_ACCOUNT, PASSWORD_PER_ADDRESS } from "../src/features/sign-in/attempt-gates";

function login(app: FastifyInstance, address: string, body: Record<string, string>) {
  return app.inject({ method: "POST", url: "/v1/auth/login", payload: body, remoteAddress: address });
}

const WRONG = "not the password at all";
const statuses = (responses: LightMyRequestResponse[]) => responses.map((r) => r.statusCode);

describe("password guessing", () => {
  let app: FastifyInstance;
  let smtp: SmtpSink;
  beforeAll(async () => {
    smtp = await SmtpSink.start();
    app = await buildDashboard({ SMTP_URL: smtp.url });
  });
  afterAll(async () => {
    await app.close();
    await smtp.close();
  });

  it("counts parallel wrong passwords one by one: at most the free ones are checked, then the address waits (finding 2)", async () => {
    const org = await registerOrganization(app);
    // Waves of 30 at once: the address holds only two places in the hashing, so most of a wave is told to
    // wait (429) before anything is read or counted, and the rest meet the gate, which counts them one by one.
    const guesses: LightMyRequestResponse[] = [];
    for (let wave = 0; wave < 6; wave++) {
      guesses.push(
        ...(await Promise.all(
          Array.from({ length: 30 }, () => login(app, "203.0.113.10", { email: org.email, password: WRONG })),
        )),
      );
    }
    const checked = guesses.filter((r) => r.statusCode === 401);
    expect(checked.length).toBeGreaterThan(0);
    expect(checked.length).toBeLessThanOrEqual(PASSWORD_PER_ADDRESS.freeAttempts);
    expect(new Set(statuses(guesses))).toEqual(new Set([401, 429]));

    // The right password from that address now waits too, for the gate's delay: the guesses were counted
    // before argon2 ran.
    const right = await login(app, "203.0.113.10", { email: org.email, password: PASSWORD });
    expect(right.statusCode).toBe(429);
    expect(Number(right.headers["retry-after"])).toBeGreaterThan(PASSWORD_PER_ADDRESS.firstDelayMs / 2000);
    expect(right.json().code).toBe("RATE_LIMITED");
  });

  it("forgets an address's count when the right password comes from it", async () => {
    const org = await registerOrganization(app);
    const from = "203.0.113.44";
    const free = PASSWORD_PER_ADDRESS.freeAttempts;
    for (let i = 0; i < free - 1; i++) {
      expect((await login(app, from, { email: org.email, password: WRONG })).statusCode).toBe(401);
    }
    expect((await login(app, from, { email: org.email, password: PASSWORD })).statusCode).toBe(200);
    // Counting on, the next wrong one would close the gate; forgotten, the free attempts start again.
    for (let i = 0; i < free; i++) {
      expect((await login(app, from, { email: org.email, password: WRONG })).statusCode).toBe(401);
    }
    expect((await login(app, from, { email: org.email, password: WRONG })).statusCode).toBe(429);
  });

  it("never lets a stranger's wrong passwords lock the owner out (finding 10)", async () => {
    const org = await registerOrganization(app);
    for (let i = 0; i < 12; i++) {
      const r = await login(app, "198.51.100.7", { email: org.email, password: WRONG });
      expect([401, 429]).toContain(r.statusCode);
    }
    const owner = await login(app, "192.0.2.44", { email: org.email, password: PASSWORD });
    expect(owner.statusCode).toBe(200);
    expect(owner.json().twoFactorSetupRequired).toBe(true);
  });

  it("slows a guesser rotating addresses, but not the owner at an address they signed in from (finding 10)", async () => {
    const user = await enrolledUser(app);
    // The owner signs in once from a familiar address.
    const first = await login(app, "192.0.2.80", {
      email: user.email,
      password: PASSWORD,
      code: totp(user.secret, Date.now() + 30_000),
    });
    expect(first.statusCode).toBe(200);

    const free = PASSWORD_PER_ACCOUNT.freeAttempts;
    for (let i = 0; i < free; i++) {
      const r = await login(app, `10.20.${i}.1`, { email: user.email, password: WRONG });
      expect(r.statusCode).toBe(401);
    }
    const slowed = await login(app, "10.99.0.1", { email: user.email, password: WRONG });
    expect(slowed.statusCode).toBe(429);
    const wait = Number(slowed.headers["retry-after"]);
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(PASSWORD_PER_ACCOUNT.maxDelayMs / 1000);

    // From the familiar address the owner gets in at once.
    const owner = await login(app, "192.0.2.80", {
      email: user.email,
      password: PASSWORD,
      code: user.recoveryCodes[0] ?? "",
    });
    expect(owner.statusCode).toBe(200);
  });

  it("answers an unknown email exactly like a known one when the gate closes, so gates reveal no accounts", async () => {
    const known = await registerOrganization(app);
    const unknown = email("nobody");
    const run = async (who: string) => {
      const out: number[] = [];
      for (let i = 0; i < PASSWORD_PER_ADDRESS.freeAttempts + 1; i++) {
        out.push((await login(app, "203.0.113.99", { email: who, password: WRONG })).statusCode);
      }
      return out;
    };
    expect(await run(known.email)).toEqual(await run(unknown));
  });

  it("keeps one address from filling the shared hashing queue and making everyone's logins answer 503 (finding 8)", async () => {
    const flood = Array.from({ length: 40 }, () =>
      login(app, "203.0.113.200", { email: email("flood"), password: WRONG }),
    );
    const others = ["192.0.2.1", "192.0.2.2", "192.0.2.3"].map((address) =>
      login(app, address, { email: email("other"), password: WRONG }),
    );
    const [flooded, answered] = await Promise.all([Promise.all(flood), Promise.all(others)]);
    expect(statuses(answered)).toEqual([401, 401, 401]);
    expect(statuses(flooded)).not.toContain(503);
    expect(statuses(flooded)).toContain(429);
  });

  it("sends at most a few reset mails to one account however often it is asked (finding 13)", async () => {
    const org = await registerOrganization(app);
    const before = smtp.to(org.email).length;
    for (let i = 0; i < MAILS_PER_ACCOUNT.freeAttempts + 3; i++) {
      const r = await app.inject({
        method: "POST",
        url: "/v1/auth/forgot-password",
        payload: { email: org.email },
        remoteAddress: `198.18.0.${i + 1}`,
      });
      expect(r.statusCode).toBe(202);
    }
    // The mails go out after the answer; give the last one time to arrive.
    await expect.poll(() => smtp.to(org.email).length - before).toBe(MAILS_PER_ACCOUNT.freeAttempts);
    await new Promise((r) => setTimeout(r, 300));
    expect(smtp.to(org.email).length - before).toBe(MAILS_PER_ACCOUNT.freeAttempts);
  });
});
